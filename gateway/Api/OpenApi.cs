using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;

namespace Kefu.Gateway.Api;

/// <summary>
/// The OpenAPI 3.1 description of the whole HTTP API at <c>/openapi/v1.json</c> (docs/integration.md §12), generated
/// from the mapped endpoints at request time, so an endpoint added anywhere is described without being listed here.
/// What the endpoints' own metadata cannot say is added by transformers: who may call (security schemes and the
/// scopes of service keys, read from the authorization metadata), the problem details every error answers with, and
/// the outbound webhooks (the event envelope and each event type's data, <see cref="OpenApiEvents"/>).
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

    /// <summary>Extension naming who may call an operation: anonymous, authenticated, agent, admin or scope:&lt;scope&gt;.</summary>
    public const string AccessExtension = "x-kefu-access";

    private const string ProblemContentType = "application/problem+json";

    public static IServiceCollection AddKefuOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, o =>
        {
            o.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            o.AddDocumentTransformer((document, _, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                DescribeOperation(operation, context);
                return Task.CompletedTask;
            });
        });

    /// <summary>Serves the document to anyone: it holds no secret, and integrators read it before they have a key.</summary>
    public static IEndpointRouteBuilder MapKefuOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath).AllowAnonymous();
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
    }

    private static void DescribeOperation(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        var secured = authorize.Count > 0 && !metadata.OfType<IAllowAnonymous>().Any();
        var document = context.Document;
        if (secured)
        {
            var policies = authorize.Select(a => a.Policy).OfType<string>().ToList();
            var scopes = policies.Where(p => p.StartsWith(KefuPolicies.ForScope(string.Empty), StringComparison.Ordinal))
                .Select(p => p[KefuPolicies.ForScope(string.Empty).Length..]).Distinct().ToList();
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(JwtScheme, document)] = [] }];
            string access;
            if (scopes.Count > 0)
            {
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ServiceKeyScheme, document)] = scopes });
                access = string.Join(' ', scopes.Select(s => "scope:" + s));
                AppendDescription(operation, $"Who may call: an admin token, or a service key with scope {string.Join(" and ", scopes.Select(s => $"`{s}`"))}.");
            }
            else if (policies.Contains(KefuPolicies.Admin))
            {
                access = "admin";
                AppendDescription(operation, "Who may call: an admin token.");
            }
            else if (policies.Contains(KefuPolicies.Agent))
            {
                access = "agent";
                AppendDescription(operation, "Who may call: an agent or admin token.");
            }
            else
            {
                access = "authenticated";
                AppendDescription(operation, "Who may call: any valid token (what it may see depends on its role).");
            }

            (operation.Extensions ??= new Dictionary<string, IOpenApiExtension>())[AccessExtension] = new JsonNodeExtension(access);
        }
        else
        {
            (operation.Extensions ??= new Dictionary<string, IOpenApiExtension>())[AccessExtension] = new JsonNodeExtension("anonymous");
        }

        // What the endpoints write themselves (a custom IResult) is described here rather than guessed as "200 OK".
        if (context.Description.HttpMethod == "GET" && context.Description.RelativePath?.TrimEnd('/') == "api/v1/events")
        {
            OpenApiEvents.DescribeEventsPage(operation, document);
        }

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
