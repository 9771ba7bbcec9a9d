using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Kefu.Contracts.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kefu.Gateway.Auth;

/// <summary>Issues the signed tokens agents and visitors present; the same key validates them.</summary>
public sealed partial class TokenService
{
    private readonly KefuAuthOptions _options;
    private readonly JsonWebTokenHandler _handler = new();
    private readonly JsonWebTokenHandler _validator = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _validation;
    private readonly TimeProvider _time;

    private readonly AgentSessions _sessions;

    public TokenService(IOptions<KefuAuthOptions> options, TimeProvider time, AgentSessions sessions, ILogger<TokenService> logger)
    {
        _options = options.Value;
        _time = time;
        _sessions = sessions;
        if (string.IsNullOrEmpty(_options.SigningKey))
        {
            SigningKey = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32));
            LogGeneratedKey(logger);
        }
        else
        {
            var bytes = Encoding.UTF8.GetBytes(_options.SigningKey);
            if (bytes.Length < 32)
            {
                throw new InvalidOperationException("Kefu:Auth:SigningKey must be at least 32 bytes long.");
            }

            SigningKey = new SymmetricSecurityKey(bytes);
        }

        _validation = ValidationParameters();
    }

    public SymmetricSecurityKey SigningKey { get; }

    public string Issuer => _options.Issuer;

    public (string Token, DateTimeOffset ExpiresAt) IssueAgentToken(string tenant, string agentId, string role, string displayName, long version) =>
        Issue(tenant, agentId, role, displayName, _options.AgentTokenLifetime, version);

    public (string Token, DateTimeOffset ExpiresAt) IssueVisitorToken(string tenant, string visitorId, string? name) =>
        Issue(tenant, visitorId, KefuClaims.VisitorRole, name, _options.VisitorTokenLifetime, version: null);

    /// <summary>
    /// The caller behind a valid token (signature, issuer, audience, lifetime, and for agents the token version: what
    /// the REST API checks), or null. Used by <c>/ws</c>, which keeps nothing of the token once the caller is known.
    /// </summary>
    public async Task<Caller?> ValidateAsync(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        var result = await _validator.ValidateTokenAsync(token, _validation);
        if (!result.IsValid)
        {
            return null;
        }

        var principal = new ClaimsPrincipal(result.ClaimsIdentity);
        return await _sessions.IsCurrentAsync(principal) ? principal.ToCaller() : null;
    }

    public TokenValidationParameters ValidationParameters() => new()
    {
        ValidIssuer = _options.Issuer,
        ValidAudience = _options.Issuer,
        IssuerSigningKey = SigningKey,
        NameClaimType = KefuClaims.Subject,
        RoleClaimType = KefuClaims.Role,
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    private (string, DateTimeOffset) Issue(string tenant, string subject, string role, string? name, TimeSpan lifetime, long? version)
    {
        var now = _time.GetUtcNow();
        var expires = now + lifetime;
        var claims = new List<Claim>
        {
            new(KefuClaims.Subject, subject),
            new(KefuClaims.Tenant, tenant),
            new(KefuClaims.Role, role),
        };
        if (!string.IsNullOrEmpty(name))
        {
            claims.Add(new Claim(KefuClaims.Name, name));
        }

        if (version is { } v)
        {
            claims.Add(new Claim(KefuClaims.Version, v.ToString(CultureInfo.InvariantCulture), ClaimValueTypes.Integer64));
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Issuer,
            Subject = new ClaimsIdentity(claims),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kefu:Auth:SigningKey is not set: using a random key for this run. Tokens will not survive a restart or work across gateways; set it in production.")]
    private static partial void LogGeneratedKey(ILogger logger);
}
