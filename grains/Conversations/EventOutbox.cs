using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>
/// A conversation's side of the outbox (docs/architecture.md, "Events"): numbers its events (seq 1, 2, … over every
/// event, messages included) and keeps the lifecycle events that are written with the grain state but not yet
/// relayed to the event log (<see cref="ConversationState.PendingEvents"/>). Pending events always go out before
/// anything newer (first in the next message's batch or relay), so a conversation's cursor order is its seq order.
/// The last event seq is not counted per message in the state: every state write records it together with the
/// message seq at that moment, and every message after it is exactly one event, which is what
/// <see cref="Recover"/> adds.
/// </summary>
internal sealed class EventOutbox(string tenant, string conversationId, ConversationState state)
{
    /// <summary>The seq of the conversation's newest event (committed, or staged in the state being written).</summary>
    public long LastSeq { get; private set; }

    public IReadOnlyList<DomainEvent> Pending => state.PendingEvents;

    /// <summary>On activation (and after re-reading the messages): the last event seq from the state and the store.</summary>
    public void Recover(long lastMessageSeq) =>
        LastSeq = state.LastEventSeq + Math.Max(0, lastMessageSeq - state.MessageSeqAtWrite);

    /// <summary>The message.created event of a message about to be appended (counted once the append succeeds).</summary>
    public DomainEvent ForMessage(ChatMessage message, Causation cause) =>
        new(Ulid.NewUlid(message.Ts), tenant, conversationId, LastSeq + 1, message.Ts, cause, new MessageCreated(message));

    /// <summary>What rides in the message's append: the events still pending, then the message's own.</summary>
    public IReadOnlyList<DomainEvent> BatchFor(DomainEvent messageEvent) =>
        state.PendingEvents.Count == 0 ? [messageEvent] : [.. state.PendingEvents, messageEvent];

    /// <summary>The message and its batch are stored: the pending events that rode along are relayed.</summary>
    public void Appended(DomainEvent messageEvent, int pendingRelayed)
    {
        LastSeq = messageEvent.Seq;
        Relayed(pendingRelayed);
    }

    /// <summary>
    /// Numbers the change's events and adds them to the pending ones, to be written with the state (the caller writes
    /// next; a failed write must end the activation, so nothing staged here outlives it).
    /// </summary>
    public DomainEvent[] Stage(IReadOnlyList<(EventData Data, Causation Cause)> changes, DateTimeOffset now)
    {
        var events = new DomainEvent[changes.Count];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = new DomainEvent(Ulid.NewUlid(now), tenant, conversationId, ++LastSeq, now, changes[i].Cause, changes[i].Data);
        }

        state.PendingEvents.AddRange(events);
        return events;
    }

    /// <summary>Right before every state write: the numbers <see cref="Recover"/> starts from.</summary>
    public void BeforeWrite(long lastMessageSeq)
    {
        state.LastEventSeq = LastSeq;
        state.MessageSeqAtWrite = lastMessageSeq;
    }

    /// <summary>The oldest <paramref name="count"/> pending events are in the event log (dropped from the state's next write).</summary>
    public void Relayed(int count)
    {
        if (count > 0)
        {
            state.PendingEvents.RemoveRange(0, Math.Min(count, state.PendingEvents.Count));
        }
    }
}
