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
        app.MapGroup("/api/v1/auth").WithTags("auth").MapPost("/login", LoginAsync).AllowAnonymous().RequireRateLimiting(RateLimits.Login);
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
            passwords.VerifyDecoy(request.Password);
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "Wrong username or password.");
        }

        var verdict = passwords.Verify(credentials.PasswordHash, request.Password);
        if (verdict == PasswordVerificationResult.Failed)
        {
            return Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidCredentials, "Wrong username or password.");
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await grains.GetGrain<IAgentGrain>(Tenancy.Key(tenant, request.Username)).SetPasswordHash(passwords.Hash(request.Password));
        }

        var profile = credentials.Profile;
        var (token, expiresAt) = tokens.IssueAgentToken(tenant, profile.AgentId, profile.Role, profile.DisplayName);
        return TypedResults.Ok(new LoginResponse(token, profile.AgentId, expiresAt.UtcDateTime));
    }
}
