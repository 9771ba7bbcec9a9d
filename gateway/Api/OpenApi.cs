using System.Security.Claims;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;

namespace Kefu.Gateway.Api;

/// <summary>
/// The OpenAPI 3.1 description of the whole HTTP API at <c>/openapi/v1.json</c> (docs/integration.md §12), generated
/// from the mapped endpoints, so an endpoint added anywhere is described without being listed here. What the
/// endpoints' own metadata cannot say is added by transformers: who may call (security schemes and the scopes of
/// service keys, found by asking each endpoint's authorization policy), the problem details every error answers with,
/// the bodies of endpoints that read JSON by hand (<see cref="OpenApiIntegration"/>), and the outbound webhooks (the
/// event envelope and each event type's data, <see cref="OpenApiEvents"/>).
/// </summary>
public static class KefuOpenApi
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/{documentName}.json";

    /// <summary>Security scheme of agent, admin and visitor tokens (JWT from login or visitor creation).</summary>
    public const string JwtScheme = "jwt";

    /// <summary>Security scheme of service API keys (<c>kefu_sk_…</c>); its "scopes" are the key scopes an operation needs.</summary>
    public const string ServiceKeyScheme = "serviceKey";

    /// <summary>The problem details schema (RFC 9457 with Kefu's stable <c>code</c>).</summary>
    public const string ProblemSchema = "Problem";

    /// <summary>
    /// Extension naming who may call an operation, space-separated: <c>anonymous</c>, or the token kinds that pass
    /// (<c>admin</c>, <c>agent</c>, <c>visitor</c>) and <c>scope:&lt;scope&gt;</c> for service keys.
    /// </summary>
    public const string AccessExtension = "x-kefu-access";

    private const string ProblemContentType = "application/problem+json";

    /// <summary>How long a generated document is served from memory: it changes only with a deployment.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(10);

    public static IServiceCollection AddKefuOpenApi(this IServiceCollection services) =>
        services.AddOutputCache().AddOpenApi(DocumentName, o =>
        {
            o.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            o.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) => DescribeOperationAsync(operation, context));
        });

    /// <summary>
    /// Serves the document to anyone: it holds no secret, and integrators read it before they have a key. Generating it
    /// takes ~0.1 s of CPU (every endpoint, schema and policy), so the answer is cached (per host, which the document's
    /// servers name) rather than regenerated for every anonymous request. The output cache applies only to endpoints that
    /// ask for it, and this is the only one.
    /// </summary>
    public static WebApplication MapKefuOpenApi(this WebApplication app)
    {
        app.UseOutputCache();
        app.MapOpenApi(DocumentPath).AllowAnonymous().CacheOutput(p => p.Expire(CacheFor));
        return app;
    }

    private static void Describe(OpenApiDocument document)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Kefu HTTP API",
            Version = "v1",
            Description = "The HTTP API of Kefu, a self-hosted customer-service cluster: the agent console's and widget's " +
                "REST calls and the integration API for business systems (service API keys, contacts, inbound events, " +
                "bot messages, the events API, outbound webhooks). Errors are problem details (RFC 9457) with a stable " +
                "`code`. The `webhooks` section describes what Kefu POSTs to registered webhook endpoints. " +
                "Guides: docs/integration.md; the chat WebSocket (/ws) is described in docs/protocol.md.",
        };
        var components = document.Components ??= new OpenApiComponents();
        components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        components.SecuritySchemes[JwtScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A token from POST /api/v1/auth/login (agents and admins) or POST /api/v1/visitors (visitors). " +
                "Admin tokens may call every integration endpoint.",
        };
        components.SecuritySchemes[ServiceKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "kefu_sk_…",
            Description = "A service API key (POST /api/v1/api-keys, shown once): `Authorization: Bearer kefu_sk_…`. " +
                "An operation's requirement lists the scopes the key must hold; without one the answer is 403 `missing_scope`. " +
                "Keys are rate-limited per key (429 with Retry-After).",
        };
        components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        components.Schemas[ProblemSchema] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "Problem details (RFC 9457). `code` is stable and meant for programs; `detail` is for people.",
            Required = new HashSet<string> { "status", "code" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["code"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Stable error code, e.g. invalid_field, unauthorized, not_allowed, missing_scope, not_found, " +
                        "conflict, rate_limited, payload_too_large, idempotency_mismatch, unavailable.",
                },
                ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
            },
        };
        OpenApiEvents.Describe(document);
        OpenApiIntegration.AddSchemas(document);
    }

    private static async Task DescribeOperationAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var document = context.Document;
        var extensions = operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        var (roles, scopes) = await WhoMayCallAsync(context.ApplicationServices, metadata);
        var secured = roles.Count > 0 || scopes.Count > 0;
        if (secured)
        {
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(JwtScheme, document)] = [] }];
            if (scopes.Count > 0)
            {
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ServiceKeyScheme, document)] = scopes });
            }

            AppendDescription(operation, "Who may call: " + Describe(roles, scopes));
            extensions[AccessExtension] = new JsonNodeExtension(string.Join(' ', roles.Concat(scopes.Select(s => "scope:" + s))));
        }
        else
        {
            extensions[AccessExtension] = new JsonNodeExtension("anonymous");
        }

        if (metadata.OfType<AcceptsIdempotencyKey>().Any())
        {
            AddIdempotencyKey(operation);
        }

        OpenApiIntegration.Describe(operation, context.Description.HttpMethod, context.Description.RelativePath, document);

        var responses = operation.Responses ??= new OpenApiResponses();
        var path = context.Description.RelativePath ?? string.Empty;
        if (operation.RequestBody is not null || operation.Parameters is { Count: > 0 })
        {
            AddProblem(responses, document, "400", $"Bad input (`{ErrorCodes.InvalidField}`, `{ErrorCodes.BadRequest}` or a more specific code).");
        }

        if (secured)
        {
            AddProblem(responses, document, "401", $"No, an invalid, expired or revoked token or key (`{ErrorCodes.Unauthorized}`).");
            AddProblem(responses, document, "403", $"The caller's role does not allow this (`{ErrorCodes.NotAllowed}`), or a key lacks the scope (`{Scopes.MissingScope}`).");
        }

        if (path.Contains('{', StringComparison.Ordinal))
        {
            AddProblem(responses, document, "404", $"No such resource in the caller's tenant (`{ErrorCodes.NotFound}`).");
        }

        if (secured || metadata.OfType<EnableRateLimitingAttribute>().Any())
        {
            AddProblem(responses, document, "429", $"Too many requests (`{ErrorCodes.RateLimited}`); the `Retry-After` header says when to try again.");
        }

        AddProblem(responses, document, "default", $"Any other error, as problem details (e.g. 503 `{ErrorCodes.Unavailable}`, 500 `{ErrorCodes.InternalError}`).");

        // Responses the endpoint declared without a body (e.g. a problem status from its metadata) get the problem schema.
        foreach (var (status, response) in responses)
        {
            if (status.Length == 3 && status[0] is '4' or '5' && response is OpenApiResponse { Content: null or { Count: 0 } } concrete)
            {
                concrete.Content = ProblemContent(document);
            }
        }
    }

    /// <summary>
    /// Who passes the endpoint's authorization, found by asking the real policies about a sample caller of each kind
    /// (admin, agent, visitor, and a service key holding the scopes the policies name), so named policies, policy objects
    /// and custom requirements are all described as they behave. Empty roles and scopes: anonymous.
    /// </summary>
    private static async Task<(List<string> Roles, List<string> Scopes)> WhoMayCallAsync(IServiceProvider services, IList<object> metadata)
    {
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            return ([], []);
        }

        var policy = await AuthorizationPolicy.CombineAsync(services.GetRequiredService<IAuthorizationPolicyProvider>(),
            metadata.OfType<IAuthorizeData>(), metadata.OfType<AuthorizationPolicy>());
        if (policy is null)
        {
            return ([], []);
        }

        var authorization = services.GetRequiredService<IAuthorizationService>();
        var roles = new List<string>();
        foreach (var role in new[] { Contracts.Grains.AgentRoles.Admin, Contracts.Grains.AgentRoles.Agent, KefuClaims.VisitorRole })
        {
            if (await PassesAsync(authorization, policy, Probe(role)))
            {
                roles.Add(role);
            }
        }

        var scopes = policy.Requirements.OfType<ScopeRequirement>().Select(r => r.Scope).Distinct().ToList();
        if (scopes.Count > 0 && !await PassesAsync(authorization, policy, Probe(KefuClaims.ServiceRole, scopes)))
        {
            scopes.Clear();
        }

        // Authenticated but nobody of the sample kinds passes (should not happen): still a secured operation.
        if (roles.Count == 0 && scopes.Count == 0)
        {
            roles.Add("authenticated");
        }

        return (roles, scopes);
    }

    private static ClaimsPrincipal Probe(string role, IEnumerable<string>? scopes = null)
    {
        var claims = new List<Claim>
        {
            new(KefuClaims.Subject, "openapi-probe"),
            new(KefuClaims.Tenant, Contracts.Identity.Tenancy.DefaultTenant),
            new(KefuClaims.Role, role),
        };
        claims.AddRange((scopes ?? []).Select(s => new Claim(KefuClaims.Scope, s)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "openapi-probe", KefuClaims.Name, KefuClaims.Role));
    }

    private static async Task<bool> PassesAsync(IAuthorizationService authorization, AuthorizationPolicy policy, ClaimsPrincipal user)
    {
        try
        {
            return (await authorization.AuthorizeAsync(user, resource: null, policy)).Succeeded;
        }
        catch (InvalidOperationException)
        {
            return false; // a handler that needs more than claims (e.g. the request) does not admit the sample caller
        }
    }

    private static string Describe(List<string> roles, List<string> scopes)
    {
        var people = roles.Contains("authenticated") ? "any valid token"
            : roles.Count == 0 ? null
            : string.Join(" or ", roles.Select(r => r == KefuClaims.VisitorRole ? "visitor" : r)) + " tokens";
        var keys = scopes.Count == 0 ? null : $"a service key with scope {string.Join(" and ", scopes.Select(s => $"`{s}`"))}";
        return string.Join(", or ", new[] { people, keys }.OfType<string>()) + ".";
    }

    /// <summary>The <c>Idempotency-Key</c> request header (INTEGRATION.md §3, last point).</summary>
    public static void AddIdempotencyKey(OpenApiOperation operation)
    {
        operation.Parameters ??= [];
        if (operation.Parameters.Any(p => p.Name == "Idempotency-Key"))
        {
            return;
        }

        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "Idempotency-Key",
            In = ParameterLocation.Header,
            Description = "Optional, 1–255 characters. The same key with the same request within 24 h answers the original " +
                "answer again (header `Idempotent-Replayed: true`) and does nothing new; with a different request → 422 `idempotency_mismatch`.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 255 },
        });
    }

    private static void AddProblem(OpenApiResponses responses, OpenApiDocument? document, string status, string description)
    {
        if (!responses.ContainsKey(status))
        {
            responses[status] = new OpenApiResponse { Description = description, Content = ProblemContent(document) };
        }
    }

    private static Dictionary<string, OpenApiMediaType> ProblemContent(OpenApiDocument? document) => new()
    {
        [ProblemContentType] = new OpenApiMediaType { Schema = new OpenApiSchemaReference(ProblemSchema, document) },
    };

    private static void AppendDescription(OpenApiOperation operation, string text) =>
        operation.Description = string.IsNullOrEmpty(operation.Description) ? text : operation.Description + "\n\n" + text;
}

/// <summary>
/// Endpoint metadata saying the endpoint honours the <c>Idempotency-Key</c> header, so the document declares it (an
/// endpoint filter is invisible to the OpenAPI generator): <c>.WithMetadata(AcceptsIdempotencyKey.Instance)</c>.
/// </summary>
public sealed class AcceptsIdempotencyKey
{
    public static readonly AcceptsIdempotencyKey Instance = new();
}
