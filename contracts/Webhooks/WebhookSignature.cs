using System.Security.Cryptography;
using System.Text;

namespace Kefu.Contracts.Webhooks;

/// <summary>
/// Standard Webhooks v1 signatures (INTEGRATION.md §5): <c>webhook-signature: v1,&lt;base64(HMAC-SHA256(key,
/// "&lt;webhook-id&gt;.&lt;webhook-timestamp&gt;.&lt;raw body&gt;"))&gt;</c>, where key is the base64-decoded part of the
/// secret after <c>whsec_</c>; several space-separated signatures during a secret rotation. Kefu signs with it; a
/// receiver written in .NET can verify with it (docs/integration.md has a worked example to test other verifiers).
/// </summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    /// <summary>How far a timestamp may be from the receiver's clock (replay protection), as the spec recommends.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>A new secret: <c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key bytes of <paramref name="secret"/> (with or without the <c>whsec_</c> prefix).</summary>
    public static byte[] KeyOf(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);
    }

    /// <summary>One signature, <c>v1,&lt;base64&gt;</c>, of a message id, unix timestamp and raw body.</summary>
    public static string Sign(string secret, string webhookId, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{webhookId}.{timestamp}."));
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyOf(secret), content));
    }

    /// <summary>The header value for several secrets (a rotation: old and new both sign), space-separated.</summary>
    public static string SignAll(IEnumerable<string> secrets, string webhookId, long timestamp, ReadOnlySpan<byte> body)
    {
        var signatures = new List<string>();
        foreach (var secret in secrets)
        {
            signatures.Add(Sign(secret, webhookId, timestamp, body));
        }

        return string.Join(' ', signatures);
    }

    /// <summary>
    /// True when one of the space-separated signatures in <paramref name="signatureHeader"/> is <paramref name="secret"/>'s
    /// for this id, timestamp and body, and the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>.
    /// Compares in constant time.
    /// </summary>
    public static bool Verify(string secret, string webhookId, string timestampHeader, string signatureHeader, ReadOnlySpan<byte> body,
        DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (!long.TryParse(timestampHeader, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(now.ToUnixTimeSeconds() - timestamp) > (tolerance ?? DefaultTolerance).TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, webhookId, timestamp, body));
        foreach (var candidate in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate), expected))
            {
                return true;
            }
        }

        return false;
    }
}
