using Kefu.Contracts.Grains;
using Microsoft.AspNetCore.Authorization;

namespace Kefu.Gateway.Auth;

/// <summary>
/// Policies for endpoints that people used before service keys existed and that keys may now use with a scope (agents
/// keep their access; a key needs the scope, else 403 <c>missing_scope</c>).
/// </summary>
public static class ApiKeyPolicies
{
    /// <summary>Agents and admins, or a key with <paramref name="scope"/>.</summary>
    public static AuthorizationPolicy AgentsOr(string scope) => Policy(new ScopeRequirement(scope, AgentRoles.Agent));

    /// <summary>Any person (agent, admin, visitor: the endpoint checks what each may see), or a key with <paramref name="scope"/>.</summary>
    public static AuthorizationPolicy PeopleOr(string scope) => Policy(new ScopeRequirement(scope, AgentRoles.Agent, KefuClaims.VisitorRole));

    private static AuthorizationPolicy Policy(ScopeRequirement requirement) =>
        new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(requirement).Build();
}
