using System.Security.Cryptography;
using System.Text;
using Kefu.Contracts.Identity;

namespace Kefu.Contracts.Email;

/// <summary>
/// The signed local parts of the addresses Kefu sends mail from (issue #18, docs/email.md):
/// <list type="bullet">
/// <item><c>reply+{conversationId}.{mac}.{tenant}@{replyDomain}</c> — the Reply-To of every mail about a conversation,
/// so an answer by email finds its conversation without any lookup table;</item>
/// <item><c>bounce+{mailId}.{mac}.{tenant}@{replyDomain}</c> — the envelope sender (VERP), so a bounce names the mail
/// that failed.</item>
/// </list>
/// The MAC (HMAC-SHA256 over kind, tenant and id with the configured token key, first 8 bytes as hex) means nobody can
/// post into a conversation by guessing its id. Ids are ULIDs and MACs hex, neither holds a dot, so the tenant (which
/// may) is everything after the second dot. Parsing ignores case: mail systems may lower-case local parts.
/// </summary>
public static class MailTokens
{
    public const string ReplyPrefix = "reply+";
    public const string BouncePrefix = "bounce+";
    private const int MacBytes = 8;

    public static string ReplyLocalPart(string tenant, string conversationId, byte[] key) => Create(ReplyPrefix, tenant, conversationId, key);

    public static string BounceLocalPart(string tenant, string mailId, byte[] key) => Create(BouncePrefix, tenant, mailId, key);

    /// <summary>The tenant and conversation of a reply address's local part whose MAC is right; false for anything else.</summary>
    public static bool TryParseReply(string? localPart, byte[] key, out string tenant, out string conversationId) =>
        TryParse(ReplyPrefix, localPart, key, out tenant, out conversationId);

    /// <summary>The tenant and mail id of a bounce address's local part whose MAC is right; false for anything else.</summary>
    public static bool TryParseBounce(string? localPart, byte[] key, out string tenant, out string mailId) =>
        TryParse(BouncePrefix, localPart, key, out tenant, out mailId);

    private static string Create(string prefix, string tenant, string id, byte[] key)
    {
        if (!Tenancy.IsValidName(tenant) || !Ulid.TryParse(id, out var ulid))
        {
            throw new ArgumentException($"A mail token needs a valid tenant and a ULID id (got '{tenant}', '{id}').");
        }

        var canonical = ulid.ToString();
        return string.Concat(prefix, canonical, ".", Mac(prefix, tenant, canonical, key), ".", tenant);
    }

    private static bool TryParse(string prefix, string? localPart, byte[] key, out string tenant, out string id)
    {
        tenant = id = "";
        if (localPart is null || !localPart.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = localPart[prefix.Length..];
        var first = rest.IndexOf('.');
        var second = first < 0 ? -1 : rest.IndexOf('.', first + 1);
        if (second < 0 || !Ulid.TryParse(rest[..first].ToUpperInvariant(), out var ulid))
        {
            return false;
        }

        var mac = rest[(first + 1)..second].ToLowerInvariant();
        var candidate = rest[(second + 1)..].ToLowerInvariant();
        if (!Tenancy.IsValidName(candidate))
        {
            return false;
        }

        var expected = Mac(prefix, candidate, ulid.ToString(), key);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(mac), Encoding.ASCII.GetBytes(expected)))
        {
            return false;
        }

        tenant = candidate;
        id = ulid.ToString();
        return true;
    }

    private static string Mac(string prefix, string tenant, string id, byte[] key)
    {
        var hash = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(string.Concat(prefix, "\n", tenant, "\n", id)));
        return Convert.ToHexStringLower(hash.AsSpan(0, MacBytes));
    }
}
