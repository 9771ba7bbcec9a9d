using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;

namespace Kefu.Gateway.Auth;

/// <summary>What a new key may ask for (INTEGRATION.md §1): checked before anything is stored.</summary>
public static class ApiKeyRules
{
    public const int MaxNameLength = 100;
    public const int MaxInboxes = 50;

    /// <summary>
    /// Scopes that reach the whole tenant, whatever the inbox: a key restricted to inboxes may not hold them (the events
    /// stream and webhook endpoints carry every inbox's conversations).
    /// </summary>
    public static readonly string[] TenantWide = [Scopes.EventsRead, Scopes.WebhooksManage];

    /// <summary>The normalized spec, or why not.</summary>
    public static (ApiKeySpec? Spec, string? Error) Validate(
        string? name, string[]? scopes, string[]? inboxes, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            return (null, $"name must be 1 to {MaxNameLength} characters, without control characters.");
        }

        if (scopes is not { Length: > 0 } || scopes.Any(s => !Scopes.All.Contains(s, StringComparer.Ordinal)))
        {
            return (null, $"scopes must be a non-empty list of: {string.Join(", ", Scopes.All)}.");
        }

        inboxes ??= [];
        if (inboxes.Length > MaxInboxes || inboxes.Any(i => !Tenancy.IsValidName(i)))
        {
            return (null, $"inboxes must be at most {MaxInboxes} inbox ids (a-z, 0-9, '-', '_', '.').");
        }

        if (inboxes.Length > 0 && scopes.Intersect(TenantWide, StringComparer.Ordinal).FirstOrDefault() is { } wide)
        {
            return (null, $"A key restricted to inboxes cannot hold {wide}: it reaches every inbox of the tenant.");
        }

        if (expiresAt is { } at && at <= now)
        {
            return (null, "expiresAt must be in the future.");
        }

        return (new ApiKeySpec(name, [.. scopes.Distinct(StringComparer.Ordinal)], [.. inboxes.Distinct(StringComparer.Ordinal)], expiresAt), null);
    }
}
