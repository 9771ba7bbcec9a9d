using System.Text;
using Kefu.Contracts.Email;

namespace Kefu.Grains.Tests.Email;

/// <summary>Reply and bounce addresses: they name their conversation or mail, and nobody can forge one.</summary>
public sealed class MailTokensTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a-test-token-key-0123456789-abcdefghij");

    [Fact]
    public void A_reply_address_names_its_tenant_and_conversation_even_lower_cased()
    {
        var conversation = Ulid.NewUlid().ToString();
        var local = MailTokens.ReplyLocalPart("acme.shop", conversation, Key);
        Assert.StartsWith("reply+", local, StringComparison.Ordinal);
        Assert.True(MailTokens.TryParseReply(local, Key, out var tenant, out var id));
        Assert.Equal(("acme.shop", conversation), (tenant, id));
        Assert.True(MailTokens.TryParseReply(local.ToLowerInvariant(), Key, out tenant, out id));
        Assert.Equal(("acme.shop", conversation), (tenant, id));
        Assert.False(MailTokens.TryParseBounce(local, Key, out _, out _));
    }

    [Fact]
    public void A_forged_or_damaged_address_is_refused()
    {
        var conversation = Ulid.NewUlid().ToString();
        var local = MailTokens.ReplyLocalPart("default", conversation, Key);
        var other = Ulid.NewUlid().ToString();
        var parts = local.Split('.');
        Assert.False(MailTokens.TryParseReply($"reply+{other}.{parts[1]}.default", Key, out _, out _));
        Assert.False(MailTokens.TryParseReply(local.Replace(".default", ".other", StringComparison.Ordinal), Key, out _, out _));
        Assert.False(MailTokens.TryParseReply(local, Encoding.UTF8.GetBytes("another-key-0123456789-abcdefghijklmn"), out _, out _));
        foreach (var junk in new[] { null, "", "reply+", "reply+x.y.z", "support", $"reply+{conversation}", $"reply+{conversation}.00.default" })
        {
            Assert.False(MailTokens.TryParseReply(junk, Key, out _, out _));
        }
    }

    [Fact]
    public void A_bounce_address_names_its_mail()
    {
        var mail = Ulid.NewUlid().ToString();
        var local = MailTokens.BounceLocalPart("default", mail, Key);
        Assert.True(MailTokens.TryParseBounce(local, Key, out var tenant, out var id));
        Assert.Equal(("default", mail), (tenant, id));
        Assert.False(MailTokens.TryParseReply(local, Key, out _, out _));
        Assert.Throws<ArgumentException>(() => MailTokens.BounceLocalPart("Bad Tenant", mail, Key));
    }
}
