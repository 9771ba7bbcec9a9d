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

    /// <summary>
    /// The default policy (<c>RequireAuthorization()</c> without a name): a signed-in person. Those endpoints (token
    /// refresh, a visitor's own record, CSAT, attachment uploads and links) were written for people; a service key gets
    /// 403 <c>not_allowed</c> there instead of being taken for an agent or visitor with its id.
    /// </summary>
    public static AuthorizationBuilder SetPeopleAsDefault(this AuthorizationBuilder builder) =>
        builder.SetDefaultPolicy(new AuthorizationPolicyBuilder()
            .RequireAuthenticatedUser()
            .RequireAssertion(context => !context.User.IsServiceKey())
            .Build());

    private static AuthorizationPolicy Policy(ScopeRequirement requirement) =>
        new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(requirement).Build();
}
