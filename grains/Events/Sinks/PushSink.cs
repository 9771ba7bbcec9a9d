using System.Runtime.CompilerServices;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Push;

namespace Kefu.Grains.Events.Sinks;

/// <summary>Who an ephemeral signal (typing, read, queue position) is for.</summary>
public enum SignalAudience
{
    Everyone,
    Visitor,
    Agents,
}

/// <summary>
/// Live delivery of a conversation's changes to its participants' connections, through the silo's
/// <see cref="GatewayPusher"/> (which only enqueues). message.created goes to everyone but the sending connection
/// (it gets the ack); note.created to agents only; any conversation.* event as one ConversationEvent per change:
/// agents get the whole summary, the visitor one without agent-side labels or others' read marks. Signals that are
/// not domain events go through <see cref="Signal"/>. Best effort: clients recover anything missed with <c>sync</c>.
/// </summary>
public sealed class PushSink(GatewayPusher pusher) : IConversationEventSink
{
    // An audience snapshot is shared by every change until the conversation's presence changes: group it by gateway once.
    private readonly ConditionalWeakTable<AudienceSnapshot, Routes> _routes = [];

    public void OnCommitted(CommittedChange change)
    {
        var summaryChanged = false;
        foreach (var e in change.Events)
        {
            switch (e.Data)
            {
                case MessageCreated created:
                    Send(RoutesOf(change.Audience).Everyone, new MessageEvent(created.Message), change.OriginConnectionId);
                    break;
                case NoteCreated note:
                    Send(RoutesOf(change.Audience).Agents, new NoteEvent(note.Note), null);
                    break;
                default:
                    summaryChanged = true;
                    break;
            }
        }

        if (summaryChanged)
        {
            Summary(change.Audience, change.Summary);
        }
    }

    /// <summary>The summary to everyone listening: agents get it whole, the visitor filtered.</summary>
    public void Summary(AudienceSnapshot audience, ConversationSummary summary)
    {
        var routes = RoutesOf(audience);
        Send(routes.Agents, new ConversationEvent(summary), null);
        if (routes.VisitorGateways.Length > 0)
        {
            var forVisitor = new ConversationEvent(ForVisitor(summary, audience.VisitorKey));
            foreach (var gateway in routes.VisitorGateways)
            {
                pusher.Push(gateway, new PushEnvelope([audience.VisitorKey], null, forVisitor));
            }
        }
    }

    /// <summary>An ephemeral signal (not a domain event), optionally not to one participant (the one who caused it).</summary>
    public void Signal(AudienceSnapshot audience, ChatEvent signal, SignalAudience to, string? exceptParticipant = null)
    {
        if (exceptParticipant is null)
        {
            var routes = RoutesOf(audience);
            Send(to switch { SignalAudience.Agents => routes.Agents, SignalAudience.Visitor => routes.Visitor, _ => routes.Everyone }, signal, null);
            return;
        }

        Send(Routes.Group(audience, to, exceptParticipant), signal, null);
    }

    /// <summary>
    /// What the visitor may see of the summary: no team, tags, agents, agent-set priority (issue #12), unread, or
    /// anyone else's read mark.
    /// </summary>
    internal static ConversationSummary ForVisitor(ConversationSummary summary, string visitorKey)
    {
        var ownMark = summary.ReadMarks?.GetValueOrDefault(visitorKey) ?? 0;
        return summary with
        {
            Team = null,
            Tags = [],
            AgentIds = [],
            Priority = ConversationPriority.Normal,
            Unread = 0,
            ReadMarks = ownMark > 0 ? new Dictionary<string, long>(StringComparer.Ordinal) { [visitorKey] = ownMark } : [],
        };
    }

    private Routes RoutesOf(AudienceSnapshot audience) => _routes.GetValue(audience, static a => new Routes(a));

    private void Send(KeyValuePair<string, string[]>[] byGateway, ChatEvent @event, string? excludeConnection)
    {
        foreach (var (gateway, recipients) in byGateway)
        {
            pusher.Push(gateway, new PushEnvelope(recipients, excludeConnection, @event));
        }
    }

    /// <summary>An audience grouped by gateway: one envelope per gateway carries every recipient there.</summary>
    internal sealed class Routes(AudienceSnapshot audience)
    {
        public KeyValuePair<string, string[]>[] Everyone { get; } = Group(audience, SignalAudience.Everyone, null);

        public KeyValuePair<string, string[]>[] Agents { get; } = Group(audience, SignalAudience.Agents, null);

        public KeyValuePair<string, string[]>[] Visitor { get; } = Group(audience, SignalAudience.Visitor, null);

        public string[] VisitorGateways { get; } = audience.GatewaysByParticipant.GetValueOrDefault(audience.VisitorKey) ?? [];

        public static KeyValuePair<string, string[]>[] Group(AudienceSnapshot audience, SignalAudience to, string? except)
        {
            var byGateway = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var (key, gateways) in audience.GatewaysByParticipant)
            {
                var isVisitor = key == audience.VisitorKey;
                if (key == except || (to == SignalAudience.Agents && isVisitor) || (to == SignalAudience.Visitor && !isVisitor))
                {
                    continue;
                }

                foreach (var gateway in gateways)
                {
                    if (!byGateway.TryGetValue(gateway, out var recipients))
                    {
                        byGateway[gateway] = recipients = [];
                    }

                    recipients.Add(key);
                }
            }

            return [.. byGateway.Select(p => KeyValuePair.Create(p.Key, p.Value.ToArray()))];
        }
    }
}
