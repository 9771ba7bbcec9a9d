using System.Text.Json.Nodes;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Webhooks;
using Microsoft.OpenApi;

namespace Kefu.Gateway.Api;

/// <summary>
/// The event envelope (INTEGRATION.md §2) and each event type's <c>data</c> as OpenAPI schemas, and the document's
/// <c>webhooks</c> section: one entry per event type, describing the signed POST Kefu sends to a webhook endpoint.
/// The JSON is written by hand in <see cref="EventJson"/> (not serialized from the records), so these schemas are
/// written by hand too; tests check every type has one and that EventJson's output of each type fits it.
/// </summary>
public static class OpenApiEvents
{
    public const string Envelope = "EventEnvelope";
    public const string Causation = "EventCausation";
    public const string Sender = "EventSender";
    public const string Message = "EventMessage";
    public const string MessageContent = "EventMessageContent";
    public const string Conversation = "EventConversation";
    public const string Csat = "EventCsat";
    public const string Note = "EventNote";
    public const string Contact = "EventContact";
    public const string EventsPage = "EventsPage";

    /// <summary>The component name of <paramref name="type"/>'s data schema.</summary>
    public static string DataSchema(string type) => "EventData." + type;

    private static readonly string[] CausationKinds =
    [
        Contracts.Events.Causation.Visitor, Contracts.Events.Causation.Agent, Contracts.Events.Causation.System,
        Contracts.Events.Causation.Rule, Contracts.Events.Causation.ApiKey, Contracts.Events.Causation.Bot,
    ];

    /// <summary>Each type's data: what <see cref="EventJson"/> writes for it. A type missing here fails the OpenAPI tests.</summary>
    private static readonly Dictionary<string, Func<OpenApiDocument, OpenApiSchema>> DataSchemas = new()
    {
        [EventTypes.MessageCreated] = d => Object("A visitor, agent, bot or the system wrote a message.", ("message", Ref(Message, d), true)),
        [EventTypes.ConversationCreated] = d => Object("A conversation started.", ("conversation", Ref(Conversation, d), true)),
        [EventTypes.ConversationStatusChanged] = d => Object("The status changed (queued, open, pending, snoozed, resolved).",
            ("from", Enum(ConversationStatus.All), true), ("to", Enum(ConversationStatus.All), true), ("conversation", Ref(Conversation, d), true)),
        [EventTypes.ConversationAssigned] = d => Object("An agent now holds the conversation (dispatcher, join, claim, or a transfer to an agent).",
            ("agentId", String(), true), ("agentName", String(), false), ("previousAgentId", String(), false), ("conversation", Ref(Conversation, d), true)),
        [EventTypes.ConversationTransferred] = d => Object("Handed to an agent or to a team's queue (followed by conversation.assigned when an agent gets it).",
            ("fromAgentId", String(), false), ("toAgentId", String(), false), ("toTeam", String(), false), ("conversation", Ref(Conversation, d), true)),
        [EventTypes.ConversationUpdated] = d => Object("Tags and/or priority changed; `changed` names which.",
            ("changed", new OpenApiSchema { Type = JsonSchemaType.Array, Items = Enum(["tags", "priority"]) }, true), ("conversation", Ref(Conversation, d), true)),
        [EventTypes.ConversationRated] = d => Object("The visitor rated the conversation (CSAT).", ("rating", Ref(Csat, d), true), ("conversation", Ref(Conversation, d), true)),
        [EventTypes.NoteCreated] = d => Object("An agent added an internal note. Only for consumers that ask for note.created by name.", ("note", Ref(Note, d), true)),
        [EventTypes.ContactCreated] = d => Object("A contact (a customer the business knows) was created. No conversationId/seq.", ("contact", Ref(Contact, d), true)),
        [EventTypes.ContactUpdated] = d => Object("A contact was changed. No conversationId/seq.", ("contact", Ref(Contact, d), true)),
        [EventTypes.InboundReceived] = d => Object("A business event was accepted (POST /api/v1/webhook), whether or not a routing rule acted on it. No conversationId/seq in the envelope.",
            ("sourceId", String("The sender's own event id."), true), ("type", String("The sender's event type."), true),
            ("contactId", String(), false), ("externalId", String(), false), ("conversationId", String("The conversation it addressed, if any."), false),
            ("deadline", Time("The sender's deadline (`Kefu-Timeout-Ms`): routing rules get no time past it."), false),
            ("data", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "The sender's data object, as sent." }, true)),
        [EventTypes.RouteExecuted] = d => Object("A routing rule ran for an event (docs/routing.md): its outcome, each step's, and the time it took.",
            ("triggerEventId", String("The id of the event the route handled."), true), ("triggerType", String("That event's name (an inbound type or an event type)."), true),
            ("rulesetHash", String("SHA-256 (hex) of the ruleset text that ran."), true), ("routeId", String(), true),
            ("outcome", Enum([RouteOutcomes.Succeeded, RouteOutcomes.Failed, RouteOutcomes.TimedOut, RouteOutcomes.Skipped, RouteOutcomes.Dropped]), true),
            ("conversationId", String(), false), ("error", String(), false),
            ("elapsedMs", Integer(), true), ("budgetLeftMs", Integer("What was left of the route's time budget."), true),
            ("steps", new OpenApiSchema { Type = JsonSchemaType.Array, Items = Object(null,
                ("index", Integer(), true), ("action", String("call, reply_template, assign, tag, priority, status, emit, plugin"), true), ("target", String(), false),
                ("outcome", Enum([RouteOutcomes.Succeeded, RouteOutcomes.Failed, RouteOutcomes.TimedOut, RouteOutcomes.Skipped, RouteOutcomes.FailedContinued]), true),
                ("attempts", Integer(), true), ("elapsedMs", Integer(), true), ("httpStatus", Integer(), false), ("error", String(), false),
                ("fuel", Integer("A plugin step: the fuel its call used."), false)) }, true)),
        [EventTypes.CrmSyncFailed] = d => Object("A record was given up on: its CRM did not take it within the retry limits (docs/crm.md). A retry starts it again.",
            ("crm", String("The CRM's name in configuration."), true), ("kind", Enum([CrmRecordKinds.Contact, CrmRecordKinds.Conversation]), true),
            ("recordId", String("The contact or conversation id."), true), ("attempts", Integer(), true), ("error", String(), false),
            ("httpStatus", Integer("The CRM's last answer, when there was one."), false), ("failingSince", Time(), false)),
        [EventTypes.EmailSent] = d => Object("A mail was accepted by the SMTP server (docs/email.md). No conversationId/seq in the envelope: the conversation is in the data.",
            ("conversationId", String("The conversation the mail is about."), false), ("mailId", String("The mail's id (a ULID, also in its Message-ID and bounce address)."), true),
            ("kind", Enum(["offline_reply", "transcript", "agent_notification"]), true), ("to", String("The recipient's address."), true), ("subject", String(), true)),
        [EventTypes.EmailFailed] = d => Object("A mail was given up on: refused for good (5xx), out of retries, or bounced after it was sent (docs/email.md).",
            ("conversationId", String("The conversation the mail is about."), false), ("mailId", String(), true),
            ("kind", Enum(["offline_reply", "transcript", "agent_notification"]), true), ("to", String("The recipient's address."), true),
            ("error", String("The server's answer or the bounce's reason."), false), ("bounced", new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "The failure is a bounce received after the mail was sent." }, true),
            ("attempts", Integer("SMTP attempts made."), true)),
        [EventTypes.PluginEmitted] = d => Object("A plugin's `emit` action (docs/plugins.md), at a routing step or after a visitor's message. No conversationId/seq in the envelope.",
            ("plugin", String("The plugin's name."), true), ("name", String("The name the plugin gave the event."), true),
            ("conversationId", String("The conversation it was about, if any."), false),
            ("data", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "The plugin's data object, as emitted." }, true)),
        [EventTypes.ContactErased] = d => Object("A contact's personal data was erased (`DELETE /api/v1/contacts/{id}`, docs/data-protection.md): the audit record, without personal data. Who asked is the causation. No conversationId/seq in the envelope.",
            ("contactId", String("The erased contact."), true), ("requestedAt", String("When the erasure was asked for (ISO 8601 UTC)."), true),
            ("erased", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Records changed per store (`contact`, `conversations`, `attachments`, `events`, …): store name → count." }, true)),
        [EventTypes.WebhookEndpointDisabled] = d => Object("An outbound webhook endpoint was disabled (it answered 410, or failed for too long).",
            ("endpointId", String(), true), ("url", String(), true), ("reason", String(), true)),
    };

    /// <summary>The event types that have a data schema.</summary>
    public static IReadOnlyCollection<string> DescribedTypes => DataSchemas.Keys;

    public static void Describe(OpenApiDocument document)
    {
        var schemas = document.Components!.Schemas!;
        schemas[Causation] = Object("Who or what caused the event. For a routing rule (`kind` rule, or the rule's bot): `depth` rules stand between a " +
            "person or system and this event, and `triggerEventId` is the event the rule was handling.",
            ("kind", Enum(CausationKinds), true), ("id", String(), true), ("name", String(), false),
            ("depth", Integer("Present when above 0."), false), ("triggerEventId", String(), false));
        schemas[Sender] = Object(null, ("role", Enum(["visitor", "agent", "bot", "system"]), true), ("id", String(), true), ("name", String(), false));
        schemas[MessageContent] = Object("`{\"kind\":\"text\"}` or an attachment with its id, content type, file name and size.",
            ("kind", Enum([ContentKinds.Text, ContentKinds.Attachment]), true), ("attachmentId", String(), false), ("contentType", String(), false),
            ("name", String(), false), ("size", Integer(), false));
        schemas[Message] = Object(null,
            ("conversationId", String(), true), ("messageId", String(), true), ("seq", Integer("The message's own seq."), true),
            ("sender", Ref(Sender, document), true), ("text", String(), true), ("ts", Time(), true), ("clientMsgId", String(), false),
            ("content", Ref(MessageContent, document), true));
        schemas[Csat] = Object(null,
            ("rating", new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "5" }, true), ("comment", String(), false), ("ts", Time(), true));
        schemas[Note] = Object(null, ("noteId", String(), true), ("author", Ref(Sender, document), true), ("text", String(), true), ("ts", Time(), true));
        schemas[Contact] = Object(null,
            ("id", String(), true), ("externalId", String("The business's own customer id."), false), ("name", String(), false), ("email", String(), false),
            ("attributes", new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = String() }, true));
        schemas[Conversation] = Object("The conversation as it is right after the change.",
            ("id", String(), true), ("inbox", String(), true), ("status", Enum(ConversationStatus.All), true), ("visitorId", String(), true),
            ("visitorName", String(), false), ("assigneeId", String(), false), ("assigneeName", String(), false), ("team", String(), false),
            ("priority", Enum(ConversationPriority.All), true), ("tags", Strings(), true), ("agentIds", Strings(), true),
            ("lastSeq", Integer("The last message seq."), true), ("createdAt", Time(), true), ("snoozedUntil", Time(), false),
            ("firstResponseAt", Time(), false), ("resolvedAt", Time(), false), ("csat", Ref(Csat, document), false));
        schemas[Envelope] = Object(
            "One event, the same in webhooks, the events API, Kafka and gRPC (INTEGRATION.md §2). Ignore types you do not know.",
            ("id", String("ULID of the event, the same on every redelivery: deduplicate by it."), true),
            ("type", new OpenApiSchema
            {
                Description = "One of the types of docs/integration.md §3, or a routing rule's own `custom.*` type (its `emit` action).",
                AnyOf =
                [
                    Enum(EventTypes.All),
                    new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^custom\\.[a-z0-9_.-]{1,64}$" },
                ],
            }, true),
            ("tenant", String(), true),
            ("time", Time("When the change happened (UTC, microseconds)."), true),
            ("cursor", String("Opaque, strictly increasing per tenant; pass it as `after`."), true),
            ("conversationId", String("Present for events of a conversation."), false),
            ("seq", Integer("The conversation's event sequence; with conversationId."), false),
            ("causation", Ref(Causation, document), true),
            ("data", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "The type's data: see the EventData.<type> schemas." }, true));
        schemas[EventsPage] = Object("A page of GET /api/v1/events: continue with after=next.",
            ("events", new OpenApiSchema { Type = JsonSchemaType.Array, Items = Ref(Envelope, document) }, true), ("next", String(), true));

        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = "webhooks", Description = "What Kefu POSTs to registered webhook endpoints (the `webhooks` section)." });
        document.Webhooks ??= new Dictionary<string, IOpenApiPathItem>();
        foreach (var (type, data) in DataSchemas)
        {
            schemas[DataSchema(type)] = data(document);
            document.Webhooks[type] = Webhook(document, type);
        }
    }

    /// <summary>The answer of <c>GET /api/v1/events</c>, which the endpoint writes itself.</summary>
    public static void DescribeEventsPage(OpenApiOperation operation, OpenApiDocument? document)
    {
        // The endpoint reads its query by hand (to answer each field's own error code), so nothing declares it.
        if (operation.Parameters is not { Count: > 0 })
        {
            operation.Parameters =
            [
                Query("after", String("A cursor (or `next`) from an earlier answer; absent: from the oldest retained event.")),
                Query("types", String("Comma-separated event types (may be repeated); absent: every type except note.created.")),
                Query("limit", new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1", Maximum = "500", Default = JsonValue.Create(100) }),
            ];
        }

        var responses = operation.Responses ??= new OpenApiResponses();
        responses["200"] = new OpenApiResponse
        {
            Description = "Events in cursor order.",
            Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = Ref(EventsPage, document) } },
        };
        if (!responses.ContainsKey("410"))
        {
            responses["410"] = new OpenApiResponse
            {
                Description = $"Events after `after` were deleted by retention (`{EventsApi.CursorExpired}`): resynchronize.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(KefuOpenApi.ProblemSchema, document) },
                },
            };
        }
    }

    private static OpenApiPathItem Webhook(OpenApiDocument document, string type)
    {
        var body = new OpenApiSchema
        {
            AllOf =
            [
                Ref(Envelope, document),
                new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = type },
                        ["data"] = Ref(DataSchema(type), document),
                    },
                },
            ],
        };
        var operation = new OpenApiOperation
        {
            Summary = $"{type} delivered to a webhook endpoint",
            Description = (EventTypes.IsExplicitOnly(type) ? "Sent only to endpoints that list this type by name (not with \"*\"). " : string.Empty) +
                "Kefu POSTs the event envelope, signed per Standard Webhooks v1 (docs/integration.md §10–11). Verify the signature " +
                "over the raw body before parsing, reject timestamps more than 5 minutes away, and deduplicate by `webhook-id`: " +
                "delivery is at least once.",
            Tags = new HashSet<OpenApiTagReference> { new("webhooks", document) },
            Parameters =
            [
                Header(WebhookSignature.IdHeader, "The event id (the envelope's `id`), the same on every retry."),
                Header(WebhookSignature.TimestampHeader, "Unix seconds when this attempt was signed."),
                Header(WebhookSignature.SignatureHeader,
                    "`v1,<base64(HMAC-SHA256(key, \"<webhook-id>.<webhook-timestamp>.<raw body>\"))>`, key = the base64-decoded part of the " +
                    "endpoint secret after `whsec_`; several space-separated signatures while a rotated secret is still valid."),
            ],
            RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = body } },
            },
            Responses = new OpenApiResponses
            {
                ["2XX"] = new OpenApiResponse { Description = "Delivered." },
                ["410"] = new OpenApiResponse { Description = "Gone: Kefu disables the endpoint (a webhook.endpoint_disabled event)." },
                ["429"] = new OpenApiResponse { Description = "Retried later, honouring `Retry-After`." },
                ["default"] = new OpenApiResponse { Description = "Any other answer, or none within the timeout (15 s): retried on the retry schedule." },
            },
        };
        var item = new OpenApiPathItem();
        item.AddOperation(HttpMethod.Post, operation);
        return item;
    }

    private static OpenApiParameter Query(string name, OpenApiSchema schema) => new()
    {
        Name = name,
        In = ParameterLocation.Query,
        Description = schema.Description,
        Schema = schema,
    };

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = true,
        Description = description,
        Schema = String(),
    };

    private static OpenApiSchema Object(string? description, params (string Name, IOpenApiSchema Schema, bool Required)[] properties) => new()
    {
        Type = JsonSchemaType.Object,
        Description = description,
        Properties = properties.ToDictionary(p => p.Name, p => p.Schema),
        Required = properties.Where(p => p.Required).Select(p => p.Name).ToHashSet(),
    };

    private static OpenApiSchemaReference Ref(string name, OpenApiDocument? document) => new(name, document);

    private static OpenApiSchema String(string? description = null) => new() { Type = JsonSchemaType.String, Description = description };

    private static OpenApiSchema Integer(string? description = null) => new() { Type = JsonSchemaType.Integer, Format = "int64", Description = description };

    private static OpenApiSchema Time(string? description = null) => new() { Type = JsonSchemaType.String, Format = "date-time", Description = description };

    private static OpenApiSchema Strings() => new() { Type = JsonSchemaType.Array, Items = String() };

    private static OpenApiSchema Enum(IEnumerable<string> values) => new()
    {
        Type = JsonSchemaType.String,
        Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))],
    };
}
