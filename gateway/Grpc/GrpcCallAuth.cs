using System.Security.Claims;
using Grpc.Core;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Authorization;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// The integration calls' authentication and scopes, the same as on HTTP: the gateway's authentication middleware has
/// already read the <c>authorization</c> metadata (an HTTP/2 header) with its own schemes — <c>Bearer kefu_sk_…</c> a
/// service key, any other bearer token a JWT (admins may do everything) — and the scope policies of the REST endpoints
/// decide. Only the answers differ: gRPC statuses instead of 401/403 problem details.
/// </summary>
public sealed class GrpcCallAuth(IAuthorizationService authorization, ApiKeyFailures failures)
{
    public async Task<ClaimsPrincipal> RequireAsync(ServerCallContext context, string scope)
    {
        var http = context.GetHttpContext();
        var user = http.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            // The same budget of refused keys per address as HTTP: past it, keys are not even looked up.
            if (ApiKeyDefaults.CarriesKey(http.Request) && failures.Exhausted(http.Connection.RemoteIpAddress?.ToString() ?? "unknown"))
            {
                throw GrpcErrors.Create(StatusCode.ResourceExhausted, ErrorCodes.RateLimited, "Too many refused keys from this address; retry later.");
            }

            throw GrpcErrors.Create(StatusCode.Unauthenticated, ErrorCodes.Unauthorized,
                "A valid service API key is required in the metadata: authorization: Bearer kefu_sk_…");
        }

        var result = await authorization.AuthorizeAsync(user, KefuPolicies.ForScope(scope));
        if (!result.Succeeded)
        {
            var missingScope = result.Failure?.FailureReasons.Any(r => r.Message == Scopes.MissingScope) == true;
            throw missingScope
                ? GrpcErrors.Create(StatusCode.PermissionDenied, Scopes.MissingScope, $"This key lacks the scope {scope}.")
                : GrpcErrors.Create(StatusCode.PermissionDenied, ErrorCodes.NotAllowed, "Your role does not allow this.");
        }

        return user;
    }
}
