using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Events;

/// <summary>
/// The public JSON of events (../shared/INTEGRATION.md §2): the data object of each type, written once when the event
/// is stored, and the envelope around it. Field names are camelCase; times are ISO 8601 UTC with microseconds.
/// </summary>
public static class EventJson
{
    // Chat text is often not ASCII: kept as UTF-8 instead of \uXXXX escapes, it is stored at half the size. Safe here
    // because the JSON is only ever served as application/json, never embedded in HTML.
    private static readonly JsonWriterOptions DataOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The <c>data</c> object of <paramref name="data"/>.</summary>
    public static string Data(EventData data)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, DataOptions))
        {
            WriteData(json, data);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The whole envelope of a stored event, its data copied as stored.</summary>
    public static void WriteEnvelope(Utf8JsonWriter json, StoredEvent e)
    {
        json.WriteStartObject();
        json.WriteString("id", e.Id.ToString());
        json.WriteString("type", e.Type);
        json.WriteString("tenant", e.Tenant);
        json.WriteString("time", Time(e.Time));
        json.WriteString("cursor", EventCursor.Format(e.Cursor));
        if (e.ConversationId is { } conversationId)
        {
            json.WriteString("conversationId", conversationId);
            json.WriteNumber("seq", e.Seq);
        }

        json.WritePropertyName("causation");
        WriteCausation(json, e.Causation);
        json.WritePropertyName("data");
        json.WriteRawValue(e.DataJson, skipInputValidation: true);
        json.WriteEndObject();
    }

    public static string Time(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static void WriteCausation(Utf8JsonWriter json, Causation causation)
    {
        json.WriteStartObject();
        json.WriteString("kind", causation.Kind);
        json.WriteString("id", causation.Id);
        if (causation.Name is { } name)
        {
            json.WriteString("name", name);
        }

        if (causation.Depth > 0)
        {
            json.WriteNumber("depth", causation.Depth);
        }

        if (causation.TriggerEventId is { } trigger)
        {
            json.WriteString("triggerEventId", trigger);
        }

        json.WriteEndObject();
    }

    private static void WriteData(Utf8JsonWriter json, EventData data)
    {
        json.WriteStartObject();
        switch (data)
        {
            case MessageCreated m:
                json.WritePropertyName("message");
                WriteMessage(json, m.Message);
                break;
            case ConversationCreated c:
                WriteConversation(json, c.Conversation);
                break;
            case ConversationStatusChanged s:
                json.WriteString("from", s.From);
                json.WriteString("to", s.To);
                WriteConversation(json, s.Conversation);
                break;
            case ConversationAssigned a:
                json.WriteString("agentId", a.AgentId);
                WriteOptional(json, "agentName", a.AgentName);
                WriteOptional(json, "previousAgentId", a.PreviousAgentId);
                WriteConversation(json, a.Conversation);
                break;
            case ConversationTransferred t:
                WriteOptional(json, "fromAgentId", t.FromAgentId);
                WriteOptional(json, "toAgentId", t.ToAgentId);
                WriteOptional(json, "toTeam", t.ToTeam);
                WriteConversation(json, t.Conversation);
                break;
            case ConversationUpdated u:
                WriteStrings(json, "changed", u.Changed);
                WriteConversation(json, u.Conversation);
                break;
            case ConversationRated r:
                json.WritePropertyName("rating");
                WriteCsat(json, r.Rating);
                WriteConversation(json, r.Conversation);
                break;
            case NoteCreated n:
                json.WritePropertyName("note");
                json.WriteStartObject();
                json.WriteString("noteId", n.Note.NoteId);
                json.WritePropertyName("author");
                WriteSender(json, n.Note.Author);
                json.WriteString("text", n.Note.Text);
                json.WriteString("ts", Time(n.Note.Ts));
                json.WriteEndObject();
                break;
            case ContactChanged c:
                json.WritePropertyName("contact");
                json.WriteStartObject();
                json.WriteString("id", c.ContactId);
                WriteOptional(json, "externalId", c.ExternalId);
                WriteOptional(json, "name", c.Name);
                WriteOptional(json, "email", c.Email);
                json.WritePropertyName("attributes");
                json.WriteStartObject();
                foreach (var (key, value) in c.Attributes ?? [])
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
                json.WriteEndObject();
                break;
            case InboundReceived i:
                json.WriteString("sourceId", i.SourceId);
                json.WriteString("type", i.InboundType);
                WriteOptional(json, "contactId", i.ContactId);
                WriteOptional(json, "externalId", i.ExternalId);
                WriteOptional(json, "conversationId", i.ConversationId);
                if (i.Deadline is { } deadline)
                {
                    json.WriteString("deadline", Time(deadline));
                }

                json.WritePropertyName("data");
                json.WriteRawValue(i.DataJson);
                break;
            case RouteExecuted r:
                json.WriteString("triggerEventId", r.TriggerEventId);
                json.WriteString("triggerType", r.TriggerType);
                json.WriteString("rulesetHash", r.RulesetHash);
                json.WriteString("routeId", r.RouteId);
                json.WriteString("outcome", r.Outcome);
                WriteOptional(json, "conversationId", r.ConversationId);
                WriteOptional(json, "error", r.Error);
                json.WriteNumber("elapsedMs", r.ElapsedMs);
                json.WriteNumber("budgetLeftMs", r.BudgetLeftMs);
                json.WriteStartArray("steps");
                foreach (var step in r.Steps)
                {
                    json.WriteStartObject();
                    json.WriteNumber("index", step.Index);
                    json.WriteString("action", step.Action);
                    WriteOptional(json, "target", step.Target);
                    json.WriteString("outcome", step.Outcome);
                    json.WriteNumber("attempts", step.Attempts);
                    json.WriteNumber("elapsedMs", step.ElapsedMs);
                    if (step.HttpStatus is { } status)
                    {
                        json.WriteNumber("httpStatus", status);
                    }

                    WriteOptional(json, "error", step.Error);
                    if (step.Fuel is { } fuel)
                    {
                        json.WriteNumber("fuel", fuel);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
                break;
            case CustomEvent c:
                WriteOptional(json, "conversationId", c.ConversationId);
                json.WritePropertyName("data");
                json.WriteRawValue(c.DataJson);
                break;
            case PluginEmitted p:
                json.WriteString("plugin", p.Plugin);
                json.WriteString("name", p.Name);
                WriteOptional(json, "conversationId", p.ConversationId);
                json.WritePropertyName("data");
                json.WriteRawValue(p.DataJson);
                break;
            case CrmSyncFailed c:
                json.WriteString("crm", c.Crm);
                json.WriteString("kind", c.Kind);
                json.WriteString("recordId", c.RecordId);
                json.WriteNumber("attempts", c.Attempts);
                WriteOptional(json, "error", c.Error);
                if (c.HttpStatus is { } httpStatus)
                {
                    json.WriteNumber("httpStatus", httpStatus);
                }

                if (c.FailingSince is { } since)
                {
                    json.WriteString("failingSince", Time(since));
                }

                break;
            case EmailSent m:
                WriteOptional(json, "conversationId", m.ConversationId);
                json.WriteString("mailId", m.MailId);
                json.WriteString("kind", m.Kind);
                json.WriteString("to", m.To);
                json.WriteString("subject", m.Subject);
                break;
            case EmailFailed m:
                WriteOptional(json, "conversationId", m.ConversationId);
                json.WriteString("mailId", m.MailId);
                json.WriteString("kind", m.Kind);
                json.WriteString("to", m.To);
                WriteOptional(json, "error", m.Error);
                json.WriteBoolean("bounced", m.Bounced);
                json.WriteNumber("attempts", m.Attempts);
                break;
            case WebhookEndpointDisabled w:
                json.WriteString("endpointId", w.EndpointId);
                json.WriteString("url", w.Url);
                json.WriteString("reason", w.Reason);
                break;
            case ContactErased e:
                json.WriteString("contactId", e.ContactId);
                json.WriteString("requestedAt", Time(e.RequestedAt));
                json.WritePropertyName("erased");
                json.WriteStartObject();
                foreach (var (holder, count) in e.Erased.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    json.WriteNumber(holder, count);
                }

                json.WriteEndObject();
                break;
            default:
                throw new ArgumentException($"No JSON form for event data {data.GetType().Name}.", nameof(data));
        }

        json.WriteEndObject();
    }

    /// <summary>The message as the chat API shows it (PROTOCOL.md), with its typed content.</summary>
    public static void WriteMessage(Utf8JsonWriter json, ChatMessage m)
    {
        json.WriteStartObject();
        json.WriteString("conversationId", m.ConversationId);
        json.WriteString("messageId", m.MessageId.ToString());
        json.WriteNumber("seq", m.Seq);
        json.WritePropertyName("sender");
        WriteSender(json, m.Sender);
        json.WriteString("text", m.Text);
        json.WriteString("ts", Time(m.Ts));
        WriteOptional(json, "clientMsgId", m.ClientMsgId);
        json.WritePropertyName("content");
        WriteContent(json, m);
        json.WriteEndObject();
    }

    /// <summary><c>{"kind":"text"}</c> or <c>{"kind":"attachment","attachmentId","contentType","name","size"}</c>.</summary>
    public static void WriteContent(Utf8JsonWriter json, ChatMessage m)
    {
        json.WriteStartObject();
        json.WriteString("kind", m.Kind);
        if (m.Content is AttachmentContent a)
        {
            json.WriteString("attachmentId", a.AttachmentId);
            json.WriteString("contentType", a.ContentType);
            json.WriteString("name", a.Name);
            json.WriteNumber("size", a.Size);
        }

        json.WriteEndObject();
    }

    private static void WriteSender(Utf8JsonWriter json, Sender sender)
    {
        json.WriteStartObject();
        json.WriteString("role", sender.Role switch
        {
            ParticipantRole.Visitor => "visitor",
            ParticipantRole.Agent => "agent",
            ParticipantRole.Bot => "bot",
            _ => "system",
        });
        json.WriteString("id", sender.Id);
        WriteOptional(json, "name", sender.Name);
        json.WriteEndObject();
    }

    /// <summary>The public view of a conversation: what a business system needs, without read marks or previews.</summary>
    private static void WriteConversation(Utf8JsonWriter json, ConversationSummary c)
    {
        json.WritePropertyName("conversation");
        json.WriteStartObject();
        json.WriteString("id", c.ConversationId);
        json.WriteString("inbox", c.Inbox);
        json.WriteString("status", c.Status);
        json.WriteString("visitorId", c.VisitorId);
        WriteOptional(json, "visitorName", c.VisitorName);
        WriteOptional(json, "assigneeId", c.AssigneeId);
        WriteOptional(json, "assigneeName", c.AssigneeName);
        WriteOptional(json, "team", c.Team);
        json.WriteString("priority", c.Priority);
        WriteStrings(json, "tags", c.Tags ?? []);
        WriteStrings(json, "agentIds", c.AgentIds);
        json.WriteNumber("lastSeq", c.LastSeq);
        json.WriteString("createdAt", Time(c.CreatedAt));
        WriteOptionalTime(json, "snoozedUntil", c.SnoozedUntil);
        WriteOptionalTime(json, "firstResponseAt", c.FirstResponseAt);
        WriteOptionalTime(json, "resolvedAt", c.ResolvedAt);
        if (c.Csat is { } csat)
        {
            json.WritePropertyName("csat");
            WriteCsat(json, csat);
        }

        json.WriteEndObject();
    }

    private static void WriteCsat(Utf8JsonWriter json, CsatRating csat)
    {
        json.WriteStartObject();
        json.WriteNumber("rating", csat.Rating);
        WriteOptional(json, "comment", csat.Comment);
        json.WriteString("ts", Time(csat.Ts));
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WritePropertyName(name);
        json.WriteStartArray();
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteOptionalTime(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            json.WriteString(name, Time(time));
        }
    }
}
