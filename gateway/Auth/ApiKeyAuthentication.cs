using System.Security.Claims;
using System.Text.Encodings.Web;
using Kefu.Contracts.Grains;
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
/// allowed inbox. A revoked, expired or unknown key fails (401 problem details). The key's grain is asked on every
/// request (no cache), so a revocation holds from the next request on every gateway.
/// </summary>
public sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IGrainFactory grains,
    ApiKeyFailures failures) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>Set when the client address has used up its refused keys: the challenge is then 429, not 401.</summary>
    private bool _tooManyFailures;

    private string Address => Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!ApiKeyDefaults.CarriesKey(Request))
        {
            return AuthenticateResult.NoResult();
        }

        if (failures.Exhausted(Address))
        {
            _tooManyFailures = true;
            return AuthenticateResult.Fail("Too many refused service API keys from this address.");
        }

        // Nothing of the presented text is logged: a near-miss of a real key is still most of a secret.
        var presented = Request.Headers.Authorization[0].AsSpan("Bearer ".Length).Trim();
        if (!ApiKeyFormat.TryParse(presented, out var keyId, out var secretHash))
        {
            LogMalformedKey(Logger);
            failures.Record(Address);
            return AuthenticateResult.Fail("The service API key is malformed.");
        }

        var key = await grains.GetGrain<IApiKeyGrain>(keyId).Authenticate(secretHash);
        if (key is null)
        {
            LogKeyRefused(Logger, keyId);
            failures.Record(Address);
            return AuthenticateResult.Fail("The service API key is unknown, revoked or expired.");
        }

        var claims = new List<Claim>
        {
            new(KefuClaims.Subject, key.KeyId),
            new(KefuClaims.Tenant, key.Tenant),
            new(KefuClaims.Role, KefuClaims.ServiceRole),
            new(KefuClaims.Name, key.Name),
        };
        claims.AddRange(key.Scopes.Select(s => new Claim(KefuClaims.Scope, s)));
        claims.AddRange(key.Inboxes.Select(i => new Claim(KefuClaims.Inbox, i)));
        var identity = new ClaimsIdentity(claims, Scheme.Name, KefuClaims.Subject, KefuClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (_tooManyFailures)
        {
            Response.Headers.RetryAfter = "60";
            await Problems.Create(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, "Too many refused keys from this address; retry later.")
                .ExecuteAsync(Context);
            return;
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.Create(StatusCodes.Status401Unauthorized, ErrorCodes.Unauthorized, "A valid service API key or bearer token is required.")
            .ExecuteAsync(Context);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A malformed service API key was refused")]
    private static partial void LogMalformedKey(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Service API key {KeyId} was refused: unknown, wrong secret, revoked or expired")]
    private static partial void LogKeyRefused(ILogger logger, string keyId);
}
