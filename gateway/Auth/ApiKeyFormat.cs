using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Kefu.Gateway.Auth;

/// <summary>
/// The text of a service key: <c>kefu_sk_</c> + the key id (26-character lower-case ULID) + the secret (43 base64url
/// characters of 32 random bytes). The id comes first so the key is found without a search; only SHA-256 of the secret is
/// stored, which is enough because the secret is random (no password to guess, so no slow hash).
/// </summary>
public static class ApiKeyFormat
{
    public const int IdLength = 26;
    public const int SecretLength = 43;
    public static readonly int Length = ApiKeyDefaults.Prefix.Length + IdLength + SecretLength;

    /// <summary>A new key id and the full key text (shown once) with the hash to store.</summary>
    public static (string KeyId, string Key, byte[] SecretHash) New(DateTimeOffset now)
    {
        var keyId = Ulid.NewUlid(now).ToString().ToLowerInvariant();
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        return (keyId, ApiKeyDefaults.Prefix + keyId + secret, Hash(secret));
    }

    /// <summary>Whether <paramref name="keyId"/> is shaped like a key id (before a grain is addressed with it).</summary>
    public static bool IsKeyId(string keyId) =>
        keyId.Length == IdLength && keyId[0] is >= '0' and <= '7' && keyId.All(c => Crockford.Contains(c, StringComparison.Ordinal));

    /// <summary>The ULID alphabet, lower-case (Ulid.TryParse does not check the characters).</summary>
    private const string Crockford = "0123456789abcdefghjkmnpqrstvwxyz";

    /// <summary>Splits a presented key into its id and its secret's hash; false for anything not shaped like a key.</summary>
    public static bool TryParse(ReadOnlySpan<char> key, out string keyId, out byte[] secretHash)
    {
        keyId = string.Empty;
        secretHash = [];
        if (key.Length != Length || !key.StartsWith(ApiKeyDefaults.Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var id = key.Slice(ApiKeyDefaults.Prefix.Length, IdLength);
        var secret = key[(ApiKeyDefaults.Prefix.Length + IdLength)..];
        foreach (var c in secret)
        {
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '-' or '_'))
            {
                return false;
            }
        }

        if (!IsKeyId(id.ToString()))
        {
            return false;
        }

        keyId = id.ToString();
        secretHash = Hash(secret.ToString());
        return true;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.ASCII.GetBytes(secret));
}
