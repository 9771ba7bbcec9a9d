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
        return role == KefuClaims.VisitorRole
            ? new Caller(tenant, ParticipantRole.Visitor, subject, name, IsAdmin: false)
            : new Caller(tenant, ParticipantRole.Agent, subject, name, IsAdmin: role == AgentRoles.Admin);
    }
}
