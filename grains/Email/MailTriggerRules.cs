using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Email.Templates;

namespace Kefu.Grains.Email;

/// <summary>Something an event asks of mail.</summary>
public abstract record MailAction(string EventId, DateTimeOffset Time, string ConversationId);

/// <summary>An agent wrote to the visitor: an offline reply if the visitor stays away.</summary>
public sealed record AgentReplyAction(string EventId, DateTimeOffset Time, string ConversationId, long Seq) : MailAction(EventId, Time, ConversationId);

/// <summary>The conversation was resolved: a transcript if its inbox says so.</summary>
public sealed record ResolvedAction(string EventId, DateTimeOffset Time, string ConversationId, string Inbox) : MailAction(EventId, Time, ConversationId);

/// <summary>Tell agents about the conversation: <see cref="AgentId"/>, or (null) every opted-in agent when nobody is online for the inbox.</summary>
public sealed record NotifyAction(string EventId, DateTimeOffset Time, string ConversationId, AgentNotice Notice, string? AgentId, string Inbox,
    string? VisitorName, string? ByName, string? Preview) : MailAction(EventId, Time, ConversationId);

/// <summary>
/// What mail a page of events asks for (docs/email.md, "What is sent when"), decided from the events alone so it can be
/// unit-tested: agent messages → offline-reply candidates; resolved → transcript candidates; a new conversation → every
/// opted-in agent (when nobody is online for its inbox, checked later); assigned → the assignee, unless the agent took it
/// itself or the assignment follows a transfer to the same agent (one mail: the transfer's); transferred to an agent →
/// that agent. Whether an agent is offline and opted in is checked when the mail is made, not here.
/// </summary>
public static class MailTriggerRules
{
    public static readonly string[] Types =
    [
        EventTypes.MessageCreated, EventTypes.ConversationCreated, EventTypes.ConversationStatusChanged,
        EventTypes.ConversationAssigned, EventTypes.ConversationTransferred,
    ];

    public static List<MailAction> Plan(IEnumerable<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var actions = new List<MailAction>();
        (string Conversation, long Seq, string Agent)? transfer = null;
        foreach (var e in events)
        {
            if (e.ConversationId is not { } conversationId)
            {
                continue;
            }

            using var document = JsonDocument.Parse(e.DataJson);
            var data = document.RootElement;
            var id = e.Id.ToString();
            var conversation = data.TryGetProperty("conversation", out var c) ? c : default;
            var inbox = conversation.ValueKind == JsonValueKind.Object ? Str(conversation, "inbox") ?? "default" : "default";
            var visitorName = conversation.ValueKind == JsonValueKind.Object ? Str(conversation, "visitorName") : null;
            switch (e.Type)
            {
                case EventTypes.MessageCreated when data.TryGetProperty("message", out var m)
                                                    && m.TryGetProperty("sender", out var sender) && Str(sender, "role") == "agent"
                                                    && m.TryGetProperty("seq", out var seq):
                    actions.Add(new AgentReplyAction(id, e.Time, conversationId, seq.GetInt64()));
                    break;
                case EventTypes.ConversationStatusChanged when Str(data, "to") == ConversationStatus.Resolved:
                    actions.Add(new ResolvedAction(id, e.Time, conversationId, inbox));
                    break;
                case EventTypes.ConversationCreated:
                    actions.Add(new NotifyAction(id, e.Time, conversationId, AgentNotice.NewConversation, null, inbox, visitorName, null,
                        conversation.ValueKind == JsonValueKind.Object ? Str(conversation, "preview") : null));
                    break;
                case EventTypes.ConversationTransferred when Str(data, "toAgentId") is { } to:
                    transfer = (conversationId, e.Seq, to);
                    actions.Add(new NotifyAction(id, e.Time, conversationId, AgentNotice.Transferred, to, inbox, visitorName, e.Causation.Name, null));
                    break;
                case EventTypes.ConversationAssigned when Str(data, "agentId") is { } agent:
                    var self = e.Causation.Kind == Causation.Agent && e.Causation.Id == agent;
                    var afterTransfer = transfer is { } t && t.Conversation == conversationId && t.Agent == agent && e.Seq == t.Seq + 1;
                    if (!self && !afterTransfer)
                    {
                        actions.Add(new NotifyAction(id, e.Time, conversationId, AgentNotice.Assigned, agent, inbox, visitorName, e.Causation.Name, null));
                    }

                    break;
                default:
                    break;
            }
        }

        return actions;
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
