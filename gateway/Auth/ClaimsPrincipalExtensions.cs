using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Auth;

public static class ClaimsPrincipalExtensions
{
    /// <summary>The verified caller behind a token; grains check it again against what they hold.</summary>
    public static Caller ToCaller(this ClaimsPrincipal user)
    {
        var role = user.FindFirstValue(KefuClaims.Role);
        var subject = user.FindFirstValue(KefuClaims.Subject) ?? throw new InvalidOperationException("Token without subject.");
        var tenant = user.FindFirstValue(KefuClaims.Tenant) ?? Tenancy.DefaultTenant;
        var name = user.FindFirstValue(KefuClaims.Name);
        if (role == KefuClaims.ServiceRole)
        {
            return new Caller(tenant, ParticipantRole.Bot, subject, name, IsAdmin: false, KeyId: subject);
        }

        return role == KefuClaims.VisitorRole
            ? new Caller(tenant, ParticipantRole.Visitor, subject, name, IsAdmin: false)
            : new Caller(tenant, ParticipantRole.Agent, subject, name, IsAdmin: role == AgentRoles.Admin);
    }

    /// <summary>A service API key (not a person's JWT).</summary>
    public static bool IsServiceKey(this ClaimsPrincipal user) => user.HasClaim(KefuClaims.Role, KefuClaims.ServiceRole);

    /// <summary>
    /// Whether the caller may act in <paramref name="inboxId"/>: people and unrestricted keys everywhere in their tenant,
    /// a key restricted to inboxes only there (INTEGRATION.md §1 <c>inboxes</c>).
    /// </summary>
    public static bool AllowsInbox(this ClaimsPrincipal user, string? inboxId)
    {
        if (!user.IsServiceKey())
        {
            return true;
        }

        var inboxes = user.FindAll(KefuClaims.Inbox).Select(c => c.Value).ToArray();
        return inboxes.Length == 0 || (inboxId is not null && inboxes.Contains(inboxId, StringComparer.Ordinal));
    }
}
