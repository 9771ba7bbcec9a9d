using System.Buffers;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Api;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.OpenApi;

/// <summary>
/// The webhook schemas in /openapi/v1.json describe what Kefu really sends: every event type's JSON, as
/// <see cref="EventJson"/> writes it (once with every optional field set, once with none), fits its schema exactly —
/// no undeclared field, no missing required one, the declared types and enums.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class EventSchemaTests(GatewayFixture gateway)
{
    private const string ConversationId = "01JEQ7WZ0M3N2V7H5X9D4K6B1A";
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    /// <summary>Per type, a sample with every optional member set and one with none. A new type fails until it has both.</summary>
    private static readonly Dictionary<string, EventData[]> Samples = Build();

    [Fact]
    public async Task Every_event_types_json_fits_its_webhook_schema()
    {
        using var http = gateway.Http();
        var document = await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal(EventTypes.All.Order(), Samples.Keys.Order());

        var errors = new List<string>();
        var cursor = 1L;
        foreach (var (type, samples) in Samples)
        {
            foreach (var data in samples)
            {
                Assert.Equal(type, data.Type);
                var conversation = type.StartsWith("conversation.", StringComparison.Ordinal) || type is EventTypes.MessageCreated or EventTypes.NoteCreated
                    ? ConversationId : null;
                // What a routing rule causes carries its depth and trigger (issue #15): the causation schema must admit both.
                var causation = type == EventTypes.RouteExecuted
                    ? Causation.OfRule("order-status", Ulid.NewUlid().ToString(), triggerDepth: 0)
                    : new Causation(Causation.ApiKey, "k1", "ERP");
                var stored = new StoredEvent(cursor++, Ulid.NewUlid(), type, "default", conversation, conversation is null ? 0 : 7, Now,
                    causation, EventJson.Data(data));
                var buffer = new ArrayBufferWriter<byte>();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    EventJson.WriteEnvelope(writer, stored);
                }

                var envelope = JsonDocument.Parse(buffer.WrittenMemory).RootElement;
                SchemaCheck.Validate(envelope, schemas.GetProperty(OpenApiEvents.Envelope), schemas, type, errors);
                SchemaCheck.Validate(envelope.GetProperty("data"), schemas.GetProperty(OpenApiEvents.DataSchema(type)), schemas, type + ".data", errors);
            }
        }

        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public async Task A_rule_emitted_custom_event_fits_the_envelope_schema()
    {
        using var http = gateway.Http();
        var schemas = (await http.GetFromJsonAsync<JsonElement>("/openapi/v1.json")).GetProperty("components").GetProperty("schemas");
        var stored = new StoredEvent(1, Ulid.NewUlid(), "custom.vip_order", "default", ConversationId, 9, Now,
            Causation.OfRule("vip", Ulid.NewUlid().ToString(), triggerDepth: 1), EventJson.Data(new CustomEvent("custom.vip_order", """{"order_id":"1"}""", ConversationId)));
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            EventJson.WriteEnvelope(writer, stored);
        }

        var errors = new List<string>();
        SchemaCheck.Validate(JsonDocument.Parse(buffer.WrittenMemory).RootElement, schemas.GetProperty(OpenApiEvents.Envelope), schemas, "custom", errors);
        Assert.True(errors.Count == 0, string.Join('\n', errors));
        var type = schemas.GetProperty(OpenApiEvents.Envelope).GetProperty("properties").GetProperty("type");
        Assert.Matches(type.GetProperty("anyOf")[1].GetProperty("pattern").GetString()!, "custom.vip_order");
        Assert.DoesNotMatch(type.GetProperty("anyOf")[1].GetProperty("pattern").GetString()!, "custom.");
    }

    [Fact]
    public void The_check_finds_an_undeclared_field_a_missing_one_and_a_wrong_type()
    {
        var schemas = JsonDocument.Parse("""
            {"S":{"type":"object","required":["a","b"],"properties":{"a":{"type":"string","enum":["x"]},"b":{"type":"integer"}}}}
            """).RootElement;
        var errors = new List<string>();
        SchemaCheck.Validate(JsonDocument.Parse("""{"a":"y","c":1}""").RootElement, JsonDocument.Parse("""{"$ref":"#/components/schemas/S"}""").RootElement, schemas, "t", errors);
        Assert.Equal(3, errors.Count);
    }

    private static Dictionary<string, EventData[]> Build()
    {
        var agent = new Sender(ParticipantRole.Agent, "alice", "Alice");
        var csat = new CsatRating(5, "Quick and kind", Now);
        var full = new ConversationSummary(ConversationId, "default", "default", "01JEQ7WYF4A8C0E2G4J6M8P0R2", "Eve", ConversationStatus.Snoozed, "alice", 12,
            Now, ["alice"], Team: "billing", Priority: ConversationPriority.High, Tags: ["refund"], SnoozedUntil: Now, FirstResponseAt: Now,
            ResolvedAt: Now, Csat: csat, AssigneeName: "Alice");
        var bare = new ConversationSummary(ConversationId, "default", "default", "01JEQ7WYF4A8C0E2G4J6M8P0R2", null, ConversationStatus.Queued, null, 0, Now, []);
        return new Dictionary<string, EventData[]>
        {
            [EventTypes.MessageCreated] =
            [
                new MessageCreated(new ChatMessage(ConversationId, Ulid.NewUlid(), 12, agent, "photo.png", Now, "c-1", new AttachmentContent("att1", "image/png", "photo.png", 2048))),
                new MessageCreated(new ChatMessage(ConversationId, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Bot, "erp", null), "Shipped", Now, null)),
            ],
            [EventTypes.ConversationCreated] = [new ConversationCreated(full), new ConversationCreated(bare)],
            [EventTypes.ConversationStatusChanged] = [new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Resolved, full), new ConversationStatusChanged(ConversationStatus.Queued, ConversationStatus.Open, bare)],
            [EventTypes.ConversationAssigned] = [new ConversationAssigned("alice", "Alice", "bob", full), new ConversationAssigned("alice", null, null, bare)],
            [EventTypes.ConversationTransferred] = [new ConversationTransferred("alice", "bob", "billing", full), new ConversationTransferred(null, null, null, bare)],
            [EventTypes.ConversationUpdated] = [new ConversationUpdated(["tags", "priority"], full), new ConversationUpdated([], bare)],
            [EventTypes.ConversationRated] = [new ConversationRated(csat, full), new ConversationRated(csat with { Comment = null }, bare)],
            [EventTypes.NoteCreated] = [new NoteCreated(new InternalNote("n1", ConversationId, agent, "VIP customer", Now))],
            [EventTypes.ContactCreated] =
            [
                new ContactChanged(true, "01JEQ7WYF4A8C0E2G4J6M8P0R2", "u-42", "Ann", "ann@example.com", new() { ["plan"] = "gold" }),
                new ContactChanged(true, "01JEQ7WYF4A8C0E2G4J6M8P0R2", null, null, null, null),
            ],
            [EventTypes.ContactUpdated] = [new ContactChanged(false, "01JEQ7WYF4A8C0E2G4J6M8P0R2", "u-42", "Ann", "ann@example.com", new() { ["plan"] = "gold" })],
            [EventTypes.InboundReceived] =
            [
                new InboundReceived("erp-evt-1", "order_status", "01JEQ7WYF4A8C0E2G4J6M8P0R2", "u-42", """{"order_id":"12345","status":"shipped"}""", ConversationId)
                {
                    Deadline = Now.AddSeconds(3),
                },
                new InboundReceived("erp-evt-2", "order_status", null, null, "{}"),
            ],
            [EventTypes.RouteExecuted] =
            [
                new RouteExecuted(Ulid.NewUlid().ToString(), "order_status", new string('a', 64), "order-status", RouteOutcomes.TimedOut,
                    [
                        new RouteStepRecord(0, "call", "ERP::updateOrder", RouteOutcomes.TimedOut, 3, 3000, "timed out", 500),
                        new RouteStepRecord(1, "reply_template", null, RouteOutcomes.Skipped, 0, 0),
                        new RouteStepRecord(2, "plugin", "order-triage", RouteOutcomes.Failed, 1, 3, "plugin_trap: unreachable", null, 1234),
                    ], 3001, 0, ConversationId, "the route's 3s budget ran out"),
                new RouteExecuted(Ulid.NewUlid().ToString(), "message.created", new string('c', 64), "triage", RouteOutcomes.Dropped, [], 2, 9000, null, "dropped: spam"),
                new RouteExecuted(Ulid.NewUlid().ToString(), "custom.vip", new string('b', 64), "route-1", RouteOutcomes.Succeeded, [], 1, 9999, null),
            ],
            [EventTypes.EmailSent] = [new EmailSent(ConversationId, Ulid.NewUlid().ToString(), "offline_reply", "ann@example.com", "Re: your question")],
            [EventTypes.EmailFailed] =
            [
                new EmailFailed(ConversationId, Ulid.NewUlid().ToString(), "transcript", "ann@example.com", "SMTP 550: no such user", false, 1),
                new EmailFailed(null, Ulid.NewUlid().ToString(), "agent_notification", "bo@example.com", null, true, 3),
            ],
            [EventTypes.PluginEmitted] =
            [
                new PluginEmitted("order-triage", "order_question", """{"order":"123","lang":"zh"}""", ConversationId),
                new PluginEmitted("order-triage", "ping", "{}"),
            ],
            [EventTypes.ContactErased] = [new ContactErased(Ulid.NewUlid().ToString(), Now, new() { ["contact"] = 1, ["conversations"] = 12 })],
            [EventTypes.WebhookEndpointDisabled] = [new WebhookEndpointDisabled("wh1", "https://erp.example.com/kefu", "410 Gone")],
            [EventTypes.CrmSyncFailed] =
            [
                new CrmSyncFailed("hubspot", "contact", Ulid.NewUlid().ToString(), 25, "HTTP 503: maintenance", 503, DateTimeOffset.UtcNow.AddHours(-24)),
                new CrmSyncFailed("salesforce", "conversation", Ulid.NewUlid().ToString(), 3, null, null, null),
            ],
        };
    }
}

/// <summary>
/// Just enough of JSON Schema to check the hand-written event schemas strictly: $ref, allOf, type (also a list),
/// enum, const, required, properties (a property not declared is an error unless additionalProperties allows it),
/// additionalProperties and items.
/// </summary>
public static class SchemaCheck
{
    public static void Validate(JsonElement value, JsonElement schema, JsonElement schemas, string at, List<string> errors)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var name = reference.GetString()!["#/components/schemas/".Length..];
            Validate(value, schemas.GetProperty(name), schemas, at, errors);
            return;
        }

        if (schema.TryGetProperty("allOf", out var allOf))
        {
            foreach (var part in allOf.EnumerateArray())
            {
                Validate(value, part, schemas, at, errors);
            }
        }

        if (schema.TryGetProperty("type", out var type))
        {
            var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToList() : [type.GetString()!];
            if (!types.Any(t => Fits(value, t)))
            {
                errors.Add($"{at}: {value.ValueKind} is not {string.Join('|', types)}");
                return;
            }
        }

        if (schema.TryGetProperty("enum", out var values) && !values.EnumerateArray().Any(v => JsonElement.DeepEquals(v, value)))
        {
            errors.Add($"{at}: {value} is not one of {values}");
        }

        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(constant, value))
        {
            errors.Add($"{at}: {value} is not {constant}");
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var required in schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(e => e.GetString()!) : [])
            {
                if (!value.TryGetProperty(required, out _))
                {
                    errors.Add($"{at}: required {required} is missing");
                }
            }

            var properties = schema.TryGetProperty("properties", out var p) ? p : default;
            var additional = schema.TryGetProperty("additionalProperties", out var a) ? a : default;
            foreach (var property in value.EnumerateObject())
            {
                if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property.Name, out var propertySchema))
                {
                    Validate(property.Value, propertySchema, schemas, $"{at}.{property.Name}", errors);
                }
                else if (additional.ValueKind == JsonValueKind.Object)
                {
                    Validate(property.Value, additional, schemas, $"{at}.{property.Name}", errors);
                }
                else if (properties.ValueKind == JsonValueKind.Object && !schema.TryGetProperty("allOf", out _))
                {
                    errors.Add($"{at}: {property.Name} is not declared");
                }
            }
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                Validate(item, items, schemas, $"{at}[{i++}]", errors);
            }
        }
    }

    private static bool Fits(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => false,
    };
}
