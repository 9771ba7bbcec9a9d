using System.Text;
using Kefu.Contracts.Webhooks;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Signatures;

/// <summary>
/// <see cref="WebhookSignature"/> (Standard Webhooks v1, INTEGRATION.md §5): the worked example of
/// docs/integration.md §11 gives exactly the signature printed there, the Standard Webhooks reference vector gives
/// its published signature, and the verifier accepts what it should (rotation, tolerance) and nothing else.
/// </summary>
public sealed class WebhookSignatureTests
{
    // The worked example of docs/integration.md §11: the same values are printed there (checked below).
    public const string Secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    public const string NewSecret = "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    public const string Id = "01JEQ8A0T3N5W7Y9B1D3F5H7K9";
    public const long Timestamp = 1796119200; // 2026-12-01T10:00:00Z
    public const string Body =
        """{"id":"01JEQ8A0T3N5W7Y9B1D3F5H7K9","type":"contact.updated","tenant":"default","time":"2026-12-01T10:00:00.123456Z","cursor":"00000000000004d9","causation":{"kind":"api_key","id":"k1","name":"ERP"},"data":{"contact":{"id":"01JEQ7WYF4A8C0E2G4J6M8P0R2","externalId":"u-42","name":"Ann","attributes":{"plan":"gold"}}}}""";
    public const string Signature = "v1,5aSDvU6MOb0R85KIgPzEue7xGQPZDa5w0X1/Uvk5YRc=";
    public const string NewSignature = "v1,aizGoeA+O+bu4gflFc39ry3hsMDGmvcq7sIlJl7V0SQ=";

    private static readonly byte[] BodyBytes = Encoding.UTF8.GetBytes(Body);
    private static readonly DateTimeOffset SignedAt = DateTimeOffset.FromUnixTimeSeconds(Timestamp);

    [Fact]
    public void The_worked_example_gives_the_documented_signature()
    {
        Assert.Equal(Signature, WebhookSignature.Sign(Secret, Id, Timestamp, BodyBytes));
        Assert.Equal($"{Signature} {NewSignature}", WebhookSignature.SignAll([Secret, NewSecret], Id, Timestamp, BodyBytes));
        Assert.Equal(Signature, WebhookSignature.Sign(Secret["whsec_".Length..], Id, Timestamp, BodyBytes)); // the prefix is optional
    }

    [Fact]
    public void The_docs_print_the_worked_example_exactly()
    {
        var docs = File.ReadAllText(Path.Combine(Repository.Root, "docs", "integration.md"));
        var section = docs[docs.IndexOf("## 11.", StringComparison.Ordinal)..docs.IndexOf("## 12.", StringComparison.Ordinal)];
        foreach (var value in new[] { Secret, NewSecret, Id, Timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), Body, Signature, NewSignature })
        {
            Assert.Contains(value, section, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_standard_webhooks_reference_vector_gives_its_published_signature()
    {
        // From the Standard Webhooks reference libraries' tests: an independent check of the wire format.
        var body = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            WebhookSignature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body));
    }

    [Fact]
    public void A_genuine_delivery_verifies()
    {
        Assert.True(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt));
    }

    [Fact]
    public void Any_tampering_fails()
    {
        var body = Encoding.UTF8.GetBytes(Body.Replace("gold", "platinum", StringComparison.Ordinal));
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, body, SignedAt)); // body
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, [.. BodyBytes, (byte)'\n'], SignedAt)); // a re-serialized body
        Assert.False(WebhookSignature.Verify(Secret, "01JEQ8A0T3N5W7Y9B1D3F5H7KA", "1796119200", Signature, BodyBytes, SignedAt)); // id
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119201", Signature, BodyBytes, SignedAt)); // timestamp
        Assert.False(WebhookSignature.Verify(NewSecret, Id, "1796119200", Signature, BodyBytes, SignedAt)); // another secret
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", "v1," + Signature[3..].ToLowerInvariant(), BodyBytes, SignedAt));
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", "v2," + Signature[3..], BodyBytes, SignedAt)); // another version
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", Signature[3..], BodyBytes, SignedAt)); // no version
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", string.Empty, BodyBytes, SignedAt));
    }

    [Fact]
    public void During_a_rotation_either_secret_verifies_the_header_and_no_other()
    {
        var header = WebhookSignature.SignAll([Secret, NewSecret], Id, Timestamp, BodyBytes);
        Assert.True(WebhookSignature.Verify(Secret, Id, "1796119200", header, BodyBytes, SignedAt));
        Assert.True(WebhookSignature.Verify(NewSecret, Id, "1796119200", header, BodyBytes, SignedAt));
        Assert.False(WebhookSignature.Verify(WebhookSignature.NewSecret(), Id, "1796119200", header, BodyBytes, SignedAt));
        // Extra spaces between signatures are tolerated.
        Assert.True(WebhookSignature.Verify(NewSecret, Id, "1796119200", $"{Signature}   {NewSignature} ", BodyBytes, SignedAt));
    }

    [Fact]
    public void Timestamps_further_than_the_tolerance_are_refused_both_ways()
    {
        var tolerance = WebhookSignature.DefaultTolerance;
        Assert.Equal(TimeSpan.FromMinutes(5), tolerance);
        Assert.True(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt + tolerance));
        Assert.True(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt - tolerance));
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt + tolerance + TimeSpan.FromSeconds(1)));
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt - tolerance - TimeSpan.FromSeconds(1)));
        Assert.True(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt.AddHours(1), TimeSpan.FromHours(2)));
        Assert.False(WebhookSignature.Verify(Secret, Id, "1796119200", Signature, BodyBytes, SignedAt.AddSeconds(11), TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-1796119200")]
    [InlineData(" 1796119200")]
    [InlineData("1796119200.0")]
    [InlineData("99999999999999999999999")]
    public void A_malformed_timestamp_fails(string timestamp)
    {
        Assert.False(WebhookSignature.Verify(Secret, Id, timestamp, Signature, BodyBytes, SignedAt));
    }

    [Fact]
    public void New_secrets_are_whsec_and_32_random_bytes()
    {
        var a = WebhookSignature.NewSecret();
        Assert.StartsWith(WebhookSignature.SecretPrefix, a, StringComparison.Ordinal);
        Assert.Equal(32, WebhookSignature.KeyOf(a).Length);
        Assert.NotEqual(a, WebhookSignature.NewSecret());
    }
}
