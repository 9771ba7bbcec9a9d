using System.Buffers;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;

namespace Kefu.Grains.Activity;

/// <summary>The event types the timeline shows (docs/contact-centre.md, "Activity timeline and mentions").</summary>
public static class ActivityTypes
{
    /// <summary>Email results (another part of issue #18 records them): rendered from their JSON by name, no C# record needed here.</summary>
    public const string EmailSent = "email.sent";

    public const string EmailFailed = "email.failed";

    public static readonly string[] All =
    [
        EventTypes.ConversationAssigned, EventTypes.ConversationTransferred, EventTypes.ConversationStatusChanged,
        EventTypes.ConversationUpdated, EventTypes.ConversationRated, EventTypes.RouteExecuted, EventTypes.CrmSyncFailed,
        EmailSent, EmailFailed,
    ];
}

/// <summary>
/// Turns an event's stored data into the few fields its timeline line needs (who to whom, from which status to which,
/// which tags …), so a client renders a line without knowing the events' full shapes. Agent ids get their display names
/// from <c>names</c> where the event did not carry one. A plain class: unit-tested without a cluster.
/// </summary>
public static class ActivityFields
{
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The fields JSON object for <paramref name="e"/>; unknown or unreadable data gives <c>{}</c>.</summary>
    public static string For(StoredEvent e, Func<string, string?> names)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(names);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(e.DataJson);
        }
        catch (JsonException)
        {
            return "{}";
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return "{}";
            }

            var buffer = new ArrayBufferWriter<byte>(256);
            using (var json = new Utf8JsonWriter(buffer, Options))
            {
                json.WriteStartObject();
                Write(json, e.Type, doc.RootElement, names);
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    private static void Write(Utf8JsonWriter json, string type, JsonElement data, Func<string, string?> names)
    {
        var conversation = data.TryGetProperty("conversation", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        switch (type)
        {
            case EventTypes.ConversationAssigned:
                Agent(json, "agent", data, "agentId", names, Text(data, "agentName"));
                Agent(json, "previousAgent", data, "previousAgentId", names);
                break;
            case EventTypes.ConversationTransferred:
                Agent(json, "fromAgent", data, "fromAgentId", names);
                Agent(json, "toAgent", data, "toAgentId", names);
                Copy(json, data, "toTeam");
                break;
            case EventTypes.ConversationStatusChanged:
                Copy(json, data, "from");
                Copy(json, data, "to");
                if (Text(data, "to") == "snoozed" && conversation.ValueKind == JsonValueKind.Object)
                {
                    Copy(json, conversation, "snoozedUntil");
                }

                break;
            case EventTypes.ConversationUpdated:
                Copy(json, data, "changed");
                if (conversation.ValueKind == JsonValueKind.Object)
                {
                    Copy(json, conversation, "tags");
                    Copy(json, conversation, "priority");
                }

                break;
            case EventTypes.ConversationRated:
                if (data.TryGetProperty("rating", out var rating) && rating.ValueKind == JsonValueKind.Object)
                {
                    Copy(json, rating, "rating");
                    Copy(json, rating, "comment");
                }

                break;
            case EventTypes.RouteExecuted:
                Copy(json, data, "routeId");
                Copy(json, data, "outcome");
                Copy(json, data, "triggerType");
                Copy(json, data, "error");
                break;
            case EventTypes.CrmSyncFailed:
                Copy(json, data, "crm");
                Copy(json, data, "attempts");
                Copy(json, data, "error");
                Copy(json, data, "httpStatus");
                break;
            case ActivityTypes.EmailSent:
            case ActivityTypes.EmailFailed:
                foreach (var name in (string[])["mailId", "kind", "to", "subject", "error", "bounced", "attempts"])
                {
                    Copy(json, data, name);
                }

                break;
        }
    }

    /// <summary><c>{prefix}Id</c> and <c>{prefix}Name</c> for an agent id in <paramref name="data"/> (nothing when absent).</summary>
    private static void Agent(Utf8JsonWriter json, string prefix, JsonElement data, string idProperty, Func<string, string?> names, string? knownName = null)
    {
        if (Text(data, idProperty) is not { } id)
        {
            return;
        }

        json.WriteString(prefix + "Id", id);
        if ((knownName ?? names(id)) is { } name)
        {
            json.WriteString(prefix + "Name", name);
        }
    }

    private static void Copy(Utf8JsonWriter json, JsonElement from, string name)
    {
        if (from.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            json.WritePropertyName(name);
            value.WriteTo(json);
        }
    }

    private static string? Text(JsonElement from, string name) =>
        from.ValueKind == JsonValueKind.Object && from.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
