using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Kefu.Gateway.Auth;

/// <summary>The scopes of service API keys (INTEGRATION.md §1). Admin JWTs may do everything.</summary>
public static class Scopes
{
    public const string EventsWrite = "events:write";
    public const string MessagesWrite = "messages:write";
    public const string ConversationsRead = "conversations:read";
    public const string ConversationsWrite = "conversations:write";
    public const string ContactsRead = "contacts:read";
    public const string ContactsWrite = "contacts:write";
    public const string EventsRead = "events:read";
    public const string WebhooksManage = "webhooks:manage";

    public static readonly string[] All =
        [EventsWrite, MessagesWrite, ConversationsRead, ConversationsWrite, ContactsRead, ContactsWrite, EventsRead, WebhooksManage];

    /// <summary>The problem code of a key that lacks the endpoint's scope.</summary>
    public const string MissingScope = "missing_scope";

    /// <summary>Registers one policy per scope: <see cref="KefuPolicies.ForScope"/>.</summary>
    public static AuthorizationBuilder AddScopePolicies(this AuthorizationBuilder builder)
    {
        foreach (var scope in All)
        {
            builder.AddPolicy(KefuPolicies.ForScope(scope), p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
        }

        return builder.SetPeopleAsDefault();
    }
}

/// <summary>
/// Admin JWTs pass; a service key passes when it holds <see cref="Scope"/>; people whose role is in <see cref="AlsoRoles"/>
/// pass too (endpoints agents or visitors already used before keys, see ApiKeyPolicies); anyone else does not.
/// </summary>
public sealed class ScopeRequirement(string scope, params string[] alsoRoles) : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public string Scope { get; } = scope;

    public string[] AlsoRoles { get; } = alsoRoles;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        var user = context.User;
        if (user.HasClaim(KefuClaims.Role, Contracts.Grains.AgentRoles.Admin)
            || requirement.AlsoRoles.Any(role => user.HasClaim(KefuClaims.Role, role)))
        {
            context.Succeed(requirement);
        }
        else if (user.HasClaim(KefuClaims.Role, KefuClaims.ServiceRole))
        {
            if (user.HasClaim(KefuClaims.Scope, requirement.Scope))
            {
                context.Succeed(requirement);
            }
            else
            {
                context.Fail(new AuthorizationFailureReason(this, Scopes.MissingScope));
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Forbidden answers as problem details with a stable code: <c>missing_scope</c> for a key without the endpoint's scope,
/// <c>not_allowed</c> for everyone else; challenges go to the scheme that authenticated (401 problem details).
/// </summary>
public sealed class KefuAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            // context.Fail(reason) leaves FailedRequirements empty: the scope comes from the requirement that gave the reason.
            var reason = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault(r => r.Message == Scopes.MissingScope);
            var required = (reason?.Handler as ScopeRequirement)?.Scope;
            return reason is not null
                ? Api.Problems.Create(StatusCodes.Status403Forbidden, Scopes.MissingScope, $"This key lacks the scope {required}.").ExecuteAsync(context)
                : Api.Problems.Create(StatusCodes.Status403Forbidden, Contracts.Messages.ErrorCodes.NotAllowed, "Your role does not allow this.").ExecuteAsync(context);
        }

        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
