using System.Globalization;
using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;

namespace Kefu.Gateway.Auth;

/// <summary>
/// Whether a validly signed token is still honoured: an agent token's version must equal the agent's current one and
/// the agent must be active. Asked on every REST request and every <c>/ws</c> upgrade, with no cache, so a revocation
/// (logout, password or role change, deactivation, deletion) holds from the very next request; the question is one
/// interleaved grain read. Visitor tokens carry no version.
/// </summary>
public sealed class AgentSessions(IGrainFactory grains)
{
    public async Task<bool> IsCurrentAsync(ClaimsPrincipal principal)
    {
        if (principal.FindFirstValue(KefuClaims.Role) == KefuClaims.VisitorRole)
        {
            return true;
        }

        var subject = principal.FindFirstValue(KefuClaims.Subject);
        var tenant = principal.FindFirstValue(KefuClaims.Tenant) ?? Tenancy.DefaultTenant;
        if (!Tenancy.IsValidName(subject) || !Tenancy.IsValidName(tenant))
        {
            return false;
        }

        // Tokens issued before versions existed count as version 0, which is every agent's version until its first bump.
        var version = long.TryParse(principal.FindFirstValue(KefuClaims.Version), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0;
        var session = await grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, subject!)).GetSession();
        return session is { Active: true } && session.TokenVersion == version;
    }
}
