using System.Security.Claims;
using System.Text.Json.Serialization;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace Kefu.Gateway.Api;

public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/auth").WithTags("auth");
        group.MapPost("/login", LoginAsync).AllowAnonymous().RequireRateLimiting(RateLimits.Login);

        // Any valid token (agent or visitor): the authentication handler has already refused invalid, expired and
        // revoked ones.
        group.MapPost("/refresh", RefreshAsync).RequireAuthorization();
        group.MapPost("/logout", LogoutAsync).RequireAuthorization(KefuPolicies.Agent);
        return app;
    }

    private static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, IGrainFactory grains, AgentPasswords passwords, TokenService tokens)
    {
        var tenant = request.Tenant ?? Tenancy.DefaultTenant;
        if (string.IsNullOrEmpty(request.Username) || string.IsNullOrEmpty(request.Password) || !Tenancy.IsValidName(tenant))
        {
            return Problems.Invalid("username and password are required.");
        }

        var credentials = Tenancy.IsValidName(request.Username)
            ? await grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, request.Username)).GetCredentials()
            : null;
        if (credentials is null)
        {
            await passwords.VerifyDecoyAsync(request.Password);
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "Wrong username or password.");
        }

        var verdict = await passwords.VerifyAsync(credentials.PasswordHash, request.Password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "Wrong username or password.");
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, request.Username)).SetPasswordHash(await passwords.HashAsync(request.Password));
        }

        var profile = credentials.Profile;
        var (token, expiresAt) = tokens.IssueAgentToken(tenant, profile.AgentId, profile.Role, profile.DisplayName, credentials.TokenVersion);
        return TypedResults.Ok(new LoginResponse(token, profile.AgentId, expiresAt.UtcDateTime));
    }

    /// <summary>A new token with a fresh lifetime for the same caller; role and name come from the account as it is now.</summary>
    private static async Task<Results<Ok<RefreshResponse>, ProblemHttpResult>> RefreshAsync(ClaimsPrincipal user, IGrainFactory grains, TokenService tokens)
    {
        var caller = user.ToCaller();
        var key = Tenancy.Key(caller.Tenant, caller.Id);
        if (caller.Role == ParticipantRole.Visitor)
        {
            if (await grains.GetGrain<IVisitorGrain>(key).GetProfile() is not { } visitor)
            {
                return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The token's account does not exist.");
            }

            var (visitorToken, visitorExpiry) = tokens.IssueVisitorToken(caller.Tenant, caller.Id, visitor.Name ?? caller.Name);
            return TypedResults.Ok(new RefreshResponse(visitorToken, visitorExpiry.UtcDateTime, AgentId: null, VisitorId: caller.Id));
        }

        // The version was checked a moment ago; one bumped since makes this token stale at once, like any other.
        if (await grains.GetGrain<IAgentGrain>(key).GetCredentials() is not { } credentials)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "The token's account does not exist.");
        }

        var profile = credentials.Profile;
        var (token, expiresAt) = tokens.IssueAgentToken(caller.Tenant, profile.AgentId, profile.Role, profile.DisplayName, credentials.TokenVersion);
        return TypedResults.Ok(new RefreshResponse(token, expiresAt.UtcDateTime, profile.AgentId, VisitorId: null));
    }

    private static async Task<NoContent> LogoutAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        await grains.GetGrain<IAgentGrain>(Tenancy.Key(caller.Tenant, caller.Id)).EndSessions();
        return TypedResults.NoContent();
    }
}

/// <summary>Like <see cref="LoginResponse"/>; a visitor's refresh names the visitor instead of an agent.</summary>
public sealed record RefreshResponse(
    string Token,
    DateTime ExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AgentId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? VisitorId);
