using Microsoft.OpenApi;

namespace Kefu.Gateway.Api;

/// <summary>
/// Request and answer bodies of the integration endpoints that read and write their JSON by hand (to answer each
/// field's own error code, and to fingerprint the raw body for deduplication), so the generator sees no types for them.
/// Their shapes are fixed by INTEGRATION.md §2–4; an endpoint that later declares its own (Accepts/Produces) keeps it.
/// </summary>
public static class OpenApiIntegration
{
    public const string InboundEvent = "InboundEvent";
    public const string InboundAccepted = "InboundAccepted";
    public const string BotMessageRequest = "BotMessageRequest";

    public static void AddSchemas(OpenApiDocument document)
    {
        var schemas = document.Components!.Schemas!;
        schemas[InboundEvent] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "A business event (INTEGRATION.md §3). Address it to a conversation (`conversationId`) or to the business's " +
                "customer (`contact.externalId`: found or created, with its current conversation). Unknown members are ignored.",
            Required = new HashSet<string> { "id", "type" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["id"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String, MinLength = 1, MaxLength = 128,
                    Description = "The sender's own event id: the same id again within the retention window (≥ 24 h) is answered with " +
                        "the original answer and `Idempotent-Replayed: true`; with a different body → 422 `idempotency_mismatch`.",
                },
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 128, Description = "e.g. order_status" },
                ["conversationId"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["contact"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "externalId" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["externalId"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 128, Description = "The business's own customer id." },
                        ["name"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["email"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    },
                },
                ["data"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Free-form; recorded as is in inbound.received." },
            },
        };
        schemas[InboundAccepted] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "eventId", "status" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["eventId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Kefu's ULID of the inbound.received event." },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = "accepted" },
                ["conversationId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The conversation the event went to, if any." },
                ["contactId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The contact found or created, if any." },
            },
        };
        schemas[BotMessageRequest] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "A message from a bot or business system (INTEGRATION.md §4), deduplicated by `clientMsgId` like a WebSocket send.",
            Required = new HashSet<string> { "text", "clientMsgId" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["text"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["clientMsgId"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 64 },
                ["sender"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Properties = new Dictionary<string, IOpenApiSchema> { ["name"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 100 } },
                },
            },
        };
    }

    /// <summary>Fills in what the endpoint at <paramref name="method"/> <paramref name="relativePath"/> writes by hand, if it is one of them.</summary>
    public static void Describe(OpenApiOperation operation, string? method, string? relativePath, OpenApiDocument? document)
    {
        switch (method, relativePath?.TrimEnd('/'))
        {
            case ("GET", "api/v1/events"):
                OpenApiEvents.DescribeEventsPage(operation, document);
                break;
            case ("POST", "api/v1/webhook"):
                Body(operation, InboundEvent, document);
                Answer(operation, "202", "Accepted, once durable (or the original answer again, with `Idempotent-Replayed: true`).", InboundAccepted, document, replayable: true);
                Problem(operation, "413", "The body is over the limit (256 KiB by default): `payload_too_large`.", document);
                Problem(operation, "422", "This id was used before with a different body: `idempotency_mismatch`.", document);
                break;
            case ("POST", "api/v1/conversations/{conversationId}/messages"):
                Body(operation, BotMessageRequest, document);
                Answer(operation, "201", "The message (sender role bot), delivered live; the same answer again for a repeated clientMsgId.",
                    OpenApiEvents.Message, document, replayable: false);
                KefuOpenApi.AddIdempotencyKey(operation);
                Problem(operation, "413", "The body is too large: `payload_too_large`.", document);
                Problem(operation, "422", "The Idempotency-Key was used before with a different request: `idempotency_mismatch`.", document);
                break;
        }
    }

    private static void Body(OpenApiOperation operation, string schema, OpenApiDocument? document) =>
        operation.RequestBody ??= new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference(schema, document) } },
        };

    /// <summary>The success answer, replacing the generator's guess (a bare "200 OK" for an endpoint returning IResult).</summary>
    private static void Answer(OpenApiOperation operation, string status, string description, string schema, OpenApiDocument? document, bool replayable)
    {
        var responses = operation.Responses ??= new OpenApiResponses();
        if (responses.TryGetValue("200", out var guessed) && guessed.Content is not { Count: > 0 } && status != "200")
        {
            responses.Remove("200");
        }

        if (responses.ContainsKey(status))
        {
            return;
        }

        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = new OpenApiSchemaReference(schema, document) } },
        };
        if (replayable)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Idempotent-Replayed"] = new OpenApiHeader { Description = "`true` when this is the original answer to an earlier request with the same id.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
        }

        responses[status] = response;
    }

    private static void Problem(OpenApiOperation operation, string status, string description, OpenApiDocument? document)
    {
        var responses = operation.Responses ??= new OpenApiResponses();
        if (!responses.ContainsKey(status))
        {
            responses[status] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(KefuOpenApi.ProblemSchema, document) },
                },
            };
        }
    }
}
