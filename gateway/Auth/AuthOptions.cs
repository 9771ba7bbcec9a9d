namespace Kefu.Gateway.Auth;

/// <summary>Bound from "Kefu:Auth".</summary>
public sealed class KefuAuthOptions
{
    public const string Section = "Kefu:Auth";

    /// <summary>HMAC-SHA256 key (at least 32 characters). When unset a random key is made per start: tokens die with the process.</summary>
    public string? SigningKey { get; set; }

    public string Issuer { get; set; } = "kefu";

    public TimeSpan AgentTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    public TimeSpan VisitorTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Password hashes computed at once (logins, password changes); others wait. Default: half the cores, at least 1.</summary>
    public int? MaxConcurrentPasswordHashes { get; set; }
}

/// <summary>The claims Kefu puts into its tokens.</summary>
public static class KefuClaims
{
    public const string Subject = "sub";
    public const string Tenant = "tenant";
    public const string Role = "role";
    public const string Name = "name";

    /// <summary>Agent tokens: the agent's token version when issued; a different current version means revoked.</summary>
    public const string Version = "ver";

    public const string VisitorRole = "visitor";

    /// <summary>The role of a service API key's principal (a business system, not a person).</summary>
    public const string ServiceRole = "service";

    /// <summary>Service keys: one claim per granted scope (<see cref="Scopes"/>).</summary>
    public const string Scope = "scope";

    /// <summary>Service keys: one claim per inbox the key is restricted to; none = every inbox of its tenant.</summary>
    public const string Inbox = "inbox";
}

public static class KefuPolicies
{
    public const string Agent = "agent";
    public const string Admin = "admin";

    /// <summary>The policy that admits admin JWTs and service keys holding <paramref name="scope"/> (INTEGRATION.md §1).</summary>
    public static string ForScope(string scope) => "scope:" + scope;
}
