using System.Buffers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Google.Protobuf;
using Kefu.Contracts.Events;

namespace Kefu.Grains.ConversationEvents;

/// <summary>
/// One event as one Kafka record (docs/integration.md §15): the key keeps a conversation's events on one partition, in
/// order; the value is the events API's envelope (or its protobuf twin); the headers are CloudEvents' binary mode
/// (INTEGRATION.md §7), so a consumer can route and deduplicate (<c>ce_id</c>) without parsing the value.
/// </summary>
public static class ConversationEventRecords
{
    public const string JsonContentType = "application/json";
    public const string ProtobufContentType = "application/protobuf";

    public static Message<byte[], byte[]> Create(StoredEvent e, bool protobuf)
    {
        ArgumentNullException.ThrowIfNull(e);
        var key = Key(e);
        var headers = new Headers
        {
            { "ce_specversion", Utf8("1.0") },
            { "ce_id", Utf8(e.Id.ToString()) },
            { "ce_type", Utf8(e.Type) },
            { "ce_source", Utf8("/kefu/" + e.Tenant) },
            { "ce_time", Utf8(EventJson.Time(e.Time)) },
        };
        if (key.ConversationId is { } conversationId)
        {
            headers.Add("ce_subject", Utf8(conversationId));
        }

        headers.Add("content-type", Utf8(protobuf ? ProtobufContentType : JsonContentType));
        return new Message<byte[], byte[]>
        {
            Key = Utf8(key.Value),
            Value = protobuf ? EventProto.ToProto(e).ToByteArray() : Envelope(e),
            Headers = headers,
            // The event's own time, so time-based retention and consumers' timestamp lookups follow the events.
            Timestamp = new Timestamp(e.Time.UtcDateTime, TimestampType.CreateTime),
        };
    }

    /// <summary>Exactly what <c>GET /api/v1/events</c> returns for the event.</summary>
    public static byte[] Envelope(StoredEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>(512 + e.DataJson.Length);
        using (var json = new Utf8JsonWriter(buffer))
        {
            EventJson.WriteEnvelope(json, e);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The record key: the event's conversation; for an event outside a conversation, the conversation its data names
    /// (<c>inbound.received</c>, <c>route.executed</c>, <c>custom.*</c>), else the contact it is about
    /// (<c>contact.*</c>, an <c>inbound.received</c> without a conversation), else the tenant. So everything about one
    /// conversation shares its partition, and a contact's changes stay in order.
    /// </summary>
    public static RecordKey Key(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.ConversationId is { Length: > 0 } conversationId)
        {
            return new RecordKey(conversationId, conversationId);
        }

        try
        {
            using var data = JsonDocument.Parse(e.DataJson);
            var root = data.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (String(root, "conversationId") is { } named)
                {
                    return new RecordKey(named, named);
                }

                if (String(root, "contactId") is { } contactId)
                {
                    return new RecordKey(contactId, null);
                }

                if (root.TryGetProperty("contact", out var contact) && contact.ValueKind == JsonValueKind.Object && String(contact, "id") is { } id)
                {
                    return new RecordKey(id, null);
                }
            }
        }
        catch (JsonException)
        {
            // Stored data is always JSON; if it were not, the tenant key below still delivers the event.
        }

        return new RecordKey(e.Tenant, null);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}

/// <summary>A record key, and the conversation it is (for <c>ce_subject</c>), if it is one.</summary>
public readonly record struct RecordKey(string Value, string? ConversationId);
