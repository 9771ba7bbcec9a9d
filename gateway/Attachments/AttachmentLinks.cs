using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kefu.Gateway.Auth;
using Kefu.Grains.Attachments;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Attachments;

/// <summary>
/// Short-lived download links bound to one attachment: <c>?exp={unix seconds}&amp;sig={base64url HMAC-SHA256 of
/// "{attachmentId}\n{exp}"}</c>. An <c>&lt;img src&gt;</c> cannot send a header, and a bearer token in a URL ends up in
/// history, copied links and proxy logs for its whole lifetime; such a link opens one file for a few minutes only.
/// </summary>
public sealed class AttachmentLinks
{
    /// <summary>Expiry times are rounded up to the minute, so a client that asks again within it gets the same (cached) URL.</summary>
    private const long Granularity = 60;

    /// <summary>Longest accepted lifetime, whatever is configured.</summary>
    private static readonly TimeSpan MaximumLifetime = TimeSpan.FromHours(1);

    private readonly byte[] _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    public AttachmentLinks(IOptions<AttachmentOptions> options, TokenService tokens, TimeProvider time)
    {
        _time = time;
        var lifetime = options.Value.LinkLifetime;
        _lifetime = lifetime <= TimeSpan.Zero ? TimeSpan.FromMinutes(5) : lifetime > MaximumLifetime ? MaximumLifetime : lifetime;
        if (!string.IsNullOrEmpty(options.Value.LinkKey))
        {
            _key = Encoding.UTF8.GetBytes(options.Value.LinkKey);
            if (_key.Length < 32)
            {
                throw new InvalidOperationException("Kefu:Attachments:LinkKey must be at least 32 bytes long.");
            }
        }
        else
        {
            // A key of its own, derived from the token signing key: a link's MAC can never be confused with a token's.
            _key = HMACSHA256.HashData(tokens.SigningKey.Key, "kefu attachment links v1"u8);
        }
    }

    public enum Verdict
    {
        Valid,
        Invalid,
        Expired,
    }

    /// <summary>A signed URL of <paramref name="attachmentId"/> (a canonical ULID) and when it stops working.</summary>
    public (string Url, DateTimeOffset ExpiresAt) Create(string attachmentId)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var exp = ((now + (long)_lifetime.TotalSeconds + Granularity - 1) / Granularity) * Granularity;
        var sig = Base64Url.EncodeToString(Mac(attachmentId, exp));
        return ($"/api/v1/attachments/{attachmentId}?exp={exp.ToString(CultureInfo.InvariantCulture)}&sig={sig}", DateTimeOffset.FromUnixTimeSeconds(exp));
    }

    public Verdict Verify(string attachmentId, string? exp, string? sig)
    {
        if (!Ulid.TryParse(attachmentId, out var ulid)
            || !long.TryParse(exp, NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || string.IsNullOrEmpty(sig) || sig.Length > 64 || !Base64Url.IsValid(sig))
        {
            return Verdict.Invalid;
        }

        var expected = Mac(ulid.ToString(), expires);
        if (!CryptographicOperations.FixedTimeEquals(expected, Base64Url.DecodeFromChars(sig)))
        {
            return Verdict.Invalid;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        // A genuine link never expires later than the longest lifetime from now (plus the rounding).
        return expires < now ? Verdict.Expired
            : expires > now + (long)MaximumLifetime.TotalSeconds + Granularity ? Verdict.Invalid
            : Verdict.Valid;
    }

    private byte[] Mac(string attachmentId, long exp) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{attachmentId}\n{exp}")));
}
