using Kefu.Gateway.Auth;

namespace Kefu.Gateway.Tests;

/// <summary>The text of a service key and what a new key may ask for (docs/integration.md §7).</summary>
public sealed class ApiKeyFormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_new_key_parses_back_to_its_id_and_the_stored_hash()
    {
        var (keyId, key, hash) = ApiKeyFormat.New(Now);
        Assert.Equal(ApiKeyFormat.Length, key.Length);
        Assert.StartsWith("kefu_sk_" + keyId, key, StringComparison.Ordinal);
        Assert.True(ApiKeyFormat.IsKeyId(keyId));

        Assert.True(ApiKeyFormat.TryParse(key, out var parsedId, out var parsedHash));
        Assert.Equal(keyId, parsedId);
        Assert.Equal(hash, parsedHash);
        Assert.Equal(32, hash.Length);

        // Two keys never share a secret; one changed character is another hash.
        Assert.NotEqual(hash, ApiKeyFormat.New(Now).SecretHash);
        Assert.True(ApiKeyFormat.TryParse(key[..^1] + (key[^1] == 'a' ? 'b' : 'a'), out _, out var tampered));
        Assert.NotEqual(hash, tampered);
    }

    [Theory]
    [InlineData("")]
    [InlineData("kefu_sk_")]
    [InlineData("Bearer kefu_sk_")]
    [InlineData("kefu_pk_01jeq7x0000000000000000000AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("kefu_sk_01JEQ7X0000000000000000000AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // upper-case id
    [InlineData("kefu_sk_01jeq7x0000000000000000000AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A")] // not base64url
    [InlineData("kefu_sk_01jeq7x0000000000000000000AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // one short
    [InlineData("kefu_sk_uuuuuuuuuuuuuuuuuuuuuuuuuuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // not a ULID
    public void Anything_not_shaped_like_a_key_is_refused_before_a_look_up(string presented) =>
        Assert.False(ApiKeyFormat.TryParse(presented, out _, out _));

    [Fact]
    public void A_valid_request_is_normalized()
    {
        var (spec, error) = ApiKeyRules.Validate("  ERP ", ["events:write", "events:write", "messages:write"], ["shop", "shop"], Now.AddDays(1), Now);
        Assert.Null(error);
        Assert.Equal("ERP", spec!.Name);
        Assert.Equal(["events:write", "messages:write"], spec.Scopes);
        Assert.Equal(["shop"], spec.Inboxes);
        Assert.Equal(Now.AddDays(1), spec.ExpiresAt);
        Assert.Empty(ApiKeyRules.Validate("ERP", ["events:read"], null, null, Now).Spec!.Inboxes);
    }

    [Fact]
    public void Restricted_keys_cannot_hold_tenant_wide_scopes_and_expiry_is_in_the_future()
    {
        Assert.Contains("events:read", ApiKeyRules.Validate("x", ["events:read"], ["shop"], null, Now).Error, StringComparison.Ordinal);
        Assert.Contains("webhooks:manage", ApiKeyRules.Validate("x", ["webhooks:manage"], ["shop"], null, Now).Error, StringComparison.Ordinal);
        Assert.NotNull(ApiKeyRules.Validate("x", ["events:write"], null, Now, Now).Error);
        Assert.NotNull(ApiKeyRules.Validate(new string('n', 101), ["events:write"], null, null, Now).Error);
        Assert.NotNull(ApiKeyRules.Validate("x", ["events:write"], [.. Enumerable.Range(0, 51).Select(i => "i" + i)], null, Now).Error);
    }
}
