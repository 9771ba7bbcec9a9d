using System.Security.Cryptography;
using System.Text;

namespace Kefu.Contracts.Identity;

/// <summary>
/// Widget identification (issue #14): a website that knows who is signed in tells the widget <c>data-user-id</c> and
/// <c>data-user-hash</c> = lowercase hex HMAC-SHA256 of the user id (UTF-8) keyed with the inbox's identity secret (the
/// UTF-8 bytes of the whole secret string). Only the website's server knows the secret, so a visitor cannot claim another
/// customer's id (and history) by editing the page.
/// </summary>
public static class VisitorIdentity
{
    public const string SecretPrefix = "kis_";

    /// <summary>The longest user id (the business's external id) a widget may give.</summary>
    public const int MaxUserIdLength = 128;

    /// <summary>A new identity secret: "kis_" + 32 random bytes as URL-safe base64 (43 characters).</summary>
    public static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The hash a website's server computes for <paramref name="userId"/>: lowercase hex HMAC-SHA256.</summary>
    public static string Hash(string secret, string userId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(userId)));

    /// <summary>Whether <paramref name="hash"/> (hex, either case) is <paramref name="userId"/>'s hash; compared in constant time.</summary>
    public static bool Verify(string? secret, string userId, string? hash)
    {
        if (string.IsNullOrEmpty(secret) || hash is not { Length: 64 })
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(hash);
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(userId));
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Whether <paramref name="userId"/> can be a user (external) id: 1-128 characters, no control characters.</summary>
    public static bool IsValidUserId(string? userId) =>
        userId is { Length: >= 1 and <= MaxUserIdLength } && !userId.Any(char.IsControl) && userId.Trim().Length == userId.Length;
}
