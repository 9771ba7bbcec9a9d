using System.Text.Json;
using Kefu.Contracts.Events;

namespace Kefu.Grains.Routing;

/// <summary>
/// An event as routing rules see it (docs/routing.md, "What a rule sees"). <see cref="Name"/> is what <c>on</c> and the
/// <c>match</c> shorthand name: an inbound event's own <c>type</c> (e.g. <c>order_status</c>), else the event type (e.g.
/// <c>message.created</c>). <see cref="Data"/> is what templates and paths read first: an inbound event's sender
/// <c>data</c>, else the envelope's <c>data</c> object. <see cref="Inbox"/> may be filled by the runtime (a message
/// event's data does not name it).
/// </summary>
public sealed record RoutingEvent(
    string EventId,
    string Tenant,
    string Type,
    string? InboundType,
    string? ConversationId,
    long Seq,
    DateTimeOffset Time,
    Causation Causation,
    JsonElement EnvelopeData,
    JsonElement Data)
{
    public string Name => InboundType ?? Type;

    /// <summary>A message event's text (null for other events).</summary>
    public string? Text { get; init; }

    /// <summary>A message event's sender role: <c>visitor</c>, <c>agent</c>, <c>bot</c>, <c>system</c>.</summary>
    public string? SenderRole { get; init; }

    public string? Inbox { get; init; }

    /// <summary>An inbound event's sender deadline (<c>Kefu-Timeout-Ms</c>): routes get no time past it.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The event's cursor in the tenant's log (0 for a dry run's event): part of the envelope a plugin step gets.</summary>
    public long Cursor { get; init; }

    // Folded once per event however many routes read it; keyed by the Text instance so a `with { Text = … }` copy
    // does not reuse another text's folding. One reference: read and written atomically.
    private NormalizedText? normalized;

    /// <summary><see cref="Text"/> folded for matching (full-width → half-width, and lower-cased), computed once; null without text.</summary>
    public NormalizedText? NormalizedText
    {
        get
        {
            if (Text is not { } text)
            {
                return null;
            }

            if (normalized is { } cached && ReferenceEquals(cached.Source, text))
            {
                return cached;
            }

            var folded = TextNormalizer.Fold(text, lower: false);
            var value = new NormalizedText(text, folded, folded.ToLowerInvariant());
            normalized = value;
            return value;
        }
    }

    /// <summary>The event as read from the log (its data JSON parsed once).</summary>
    public static RoutingEvent FromStored(StoredEvent stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        using var document = JsonDocument.Parse(stored.DataJson);
        var data = document.RootElement.Clone();
        return Create(stored.Id.ToString(), stored.Tenant, stored.Type, stored.ConversationId, stored.Seq, stored.Time, stored.Causation, data) with { Cursor = stored.Cursor };
    }

    /// <summary>
    /// An event that did not happen, for a dry run: <paramref name="name"/> is an event type (<c>message.created</c>, with
    /// <paramref name="text"/> from a visitor) or an inbound type (then <paramref name="dataJson"/> is the sender's data).
    /// </summary>
    public static RoutingEvent Synthetic(string tenant, string name, string dataJson, string? conversationId, string? text, DateTimeOffset now)
    {
        using var document = JsonDocument.Parse(dataJson);
        var data = document.RootElement.Clone();
        var id = Ulid.NewUlid(now).ToString();
        var causation = Causation.Of("dry-run");
        if (name == EventTypes.MessageCreated)
        {
            return new RoutingEvent(id, tenant, name, null, conversationId, 0, now, causation, data, data)
            {
                Text = text ?? (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null),
                SenderRole = "visitor",
            };
        }

        return EventTypes.IsKnown(name)
            ? new RoutingEvent(id, tenant, name, null, conversationId, 0, now, causation, data, data)
            : new RoutingEvent(id, tenant, EventTypes.InboundReceived, name, conversationId, 0, now, causation, data, data);
    }

    private static RoutingEvent Create(string id, string tenant, string type, string? conversationId, long seq, DateTimeOffset time, Causation causation, JsonElement data)
    {
        if (type == EventTypes.InboundReceived && data.ValueKind == JsonValueKind.Object)
        {
            var inboundType = data.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var senderData = data.TryGetProperty("data", out var d) ? d : default;
            var conversation = data.TryGetProperty("conversationId", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : conversationId;
            DateTimeOffset? deadline = data.TryGetProperty("deadline", out var dl) && dl.ValueKind == JsonValueKind.String && dl.TryGetDateTimeOffset(out var at) ? at : null;
            return new RoutingEvent(id, tenant, type, inboundType, conversation, seq, time, causation, data, senderData) { Deadline = deadline };
        }

        if (type == EventTypes.MessageCreated && data.ValueKind == JsonValueKind.Object
            && data.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
        {
            var text = message.TryGetProperty("text", out var tx) && tx.ValueKind == JsonValueKind.String ? tx.GetString() : null;
            var role = message.TryGetProperty("sender", out var sender) && sender.ValueKind == JsonValueKind.Object
                && sender.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return new RoutingEvent(id, tenant, type, null, conversationId, seq, time, causation, data, data) { Text = text, SenderRole = role };
        }

        string? inbox = null;
        if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("conversation", out var summary) && summary.ValueKind == JsonValueKind.Object
            && summary.TryGetProperty("inbox", out var i) && i.ValueKind == JsonValueKind.String)
        {
            inbox = i.GetString();
        }

        return new RoutingEvent(id, tenant, type, null, conversationId, seq, time, causation, data, data) { Inbox = inbox };
    }
}
