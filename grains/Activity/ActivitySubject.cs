using System.Text.Json;
using Kefu.Contracts.Events;

namespace Kefu.Grains.Activity;

/// <summary>
/// Which conversation's timeline an event belongs to (the in-memory log's index; the MySQL one computes the same in a
/// generated column, deploy/mysql/012-activity-index.sql). A conversation's own events carry its id in the envelope;
/// tenant-level events about a conversation (a route execution, a CRM sync failure of a conversation record, an emitted
/// or inbound event, an email result) name it in their data. Messages and notes are never timeline items: the console
/// has them already, and leaving them out keeps the index small.
/// </summary>
public static class ActivitySubject
{
    /// <summary>The CRM record kind whose record id is a conversation id (grains/Crm).</summary>
    private const string CrmConversationKind = "conversation";

    public static string? ConversationOf(DomainEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Data switch
        {
            MessageCreated or NoteCreated => null,
            _ when e.ConversationId is not null => e.ConversationId,
            RouteExecuted r => r.ConversationId,
            CrmSyncFailed c => c.Kind == CrmConversationKind ? c.RecordId : null,
            CustomEvent c => c.ConversationId,
            InboundReceived i => i.ConversationId,
            ContactChanged or WebhookEndpointDisabled => null,

            // A type this class does not know (email results come from another part): its data's conversationId.
            _ => FromData(e.Data),
        };
    }

    private static string? FromData(EventData data)
    {
        try
        {
            return FromJson(EventJson.Data(data));
        }
        catch (ArgumentException)
        {
            return null; // no JSON form: not an event the log can store anyway
        }
    }

    /// <summary>The top-level <c>conversationId</c> string of an event's data object, if any.</summary>
    public static string? FromJson(string dataJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(dataJson);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("conversationId", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
