using System.Text.Encodings.Web;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Auth;

/// <summary>Names for service API key authentication (INTEGRATION.md §1).</summary>
public static class ApiKeyDefaults
{
    /// <summary>The scheme that checks <c>Authorization: Bearer kefu_sk_…</c>.</summary>
    public const string Scheme = "ApiKey";

    /// <summary>The default scheme: forwards to <see cref="Scheme"/> for a key, else to the JWT bearer scheme.</summary>
    public const string Selector = "Kefu";

    /// <summary>Every service key starts with this, so a key is told from a JWT without parsing either.</summary>
    public const string Prefix = "kefu_sk_";

    /// <summary>True when the request's Authorization header carries a service key.</summary>
    public static bool CarriesKey(HttpRequest request) =>
        request.Headers.Authorization is [{ } value]
        && value.StartsWith("Bearer " + Prefix, StringComparison.Ordinal);
}

/// <summary>
/// Authenticates a service API key: a principal with role <see cref="KefuClaims.ServiceRole"/>, subject = key id, name =
/// key name, tenant, one <see cref="KefuClaims.Scope"/> claim per scope and one <see cref="KefuClaims.Inbox"/> claim per
/// allowed inbox. A revoked, expired or unknown key fails (401 problem details).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
        Task.FromResult(AuthenticateResult.Fail("Service API keys are not accepted yet."));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "A valid service API key or bearer token is required.")
            .ExecuteAsync(Context);
    }
}
