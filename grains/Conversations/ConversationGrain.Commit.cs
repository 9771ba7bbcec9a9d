using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Conversations;

/// <summary>
/// How a change becomes durable together with its events, and then reaches the sinks (docs/architecture.md, "Events").
/// A message's event rides in the message's own append (the store writes both in one commit). A lifecycle change's
/// events go into the state's pending events and are written with the state (one storage write: both or neither),
/// then relayed to the event log in the same turn; what could not be relayed stays pending and goes out before
/// anything newer (first in the next append or relay, or on the next activation). Only after the commit are the
/// change's events handed to the sinks, which never block the turn.
/// </summary>
public sealed partial class ConversationGrain
{
    private static readonly Causation DispatcherCause = Causation.Of("dispatcher");

    /// <summary>A state write failed: this activation's state may not match storage, so it writes nothing more.</summary>
    private bool _stateUntrusted;

    /// <summary>
    /// Pending events were relayed since the last state write: storage still lists them, so the deactivation writes
    /// the state once more (else every later activation would relay and hand them on again).
    /// </summary>
    private bool _relayedSinceWrite;

    /// <summary>
    /// Commits a lifecycle change: its events (what changed between <paramref name="before"/> and now, after the
    /// operation's own <paramref name="stated"/> event) are written with the state, relayed, and handed to the sinks.
    /// </summary>
    /// <param name="assignmentCause">Who chose an assignee in this change when not <paramref name="cause"/> (the dispatcher).</param>
    /// <param name="leaving">An agent let go in this change: it hears the change once more.</param>
    /// <param name="followedInTurn">
    /// Another commit follows in the same turn: it relays and hands on this one's events with its own (returned
    /// here), so listeners get one change with the final summary, never an intermediate one after the final one.
    /// </param>
    /// <param name="earlier">The events of such an earlier commit, handed on first.</param>
    private async Task<DomainEvent[]> CommitAsync(
        LifecycleFacts before,
        Causation cause,
        Causation? assignmentCause = null,
        Func<ConversationSummary, EventData>? stated = null,
        ParticipantPresence? leaving = null,
        bool followedInTurn = false,
        DomainEvent[]? earlier = null)
    {
        var summary = Summary();
        var changes = stated is null
            ? LifecycleEvents.Between(before, LifecycleFacts.Of(state.State), summary, cause, assignmentCause)
            : LifecycleEvents.Between(before, LifecycleFacts.Of(state.State), summary, cause, assignmentCause, stated(summary));
        var events = Outbox.Stage(changes, time.GetUtcNow());
        await WriteStateAsync();
        Telemetry.KefuMetrics.ConversationsChanged(events);
        if (followedInTurn)
        {
            return events;
        }

        await RelayAsync();
        if (earlier is { Length: > 0 })
        {
            events = [.. earlier, .. events];
        }

        var change = new CommittedChange(_tenant, _id, events, summary, Audience.SnapshotWith(leaving));
        if (events.Length > 0)
        {
            sinks.Committed(change);
        }
        else
        {
            // Written, but nothing an event records changed (a queue position from the dispatcher's answer, the same
            // labels again): participants and consoles still get the summary, as after every lifecycle operation.
            sinks.Announce(change);
        }

        return events;
    }

    /// <summary>
    /// Every state write goes through here: it records the event numbering (<see cref="EventOutbox.BeforeWrite"/>)
    /// and persists read marks advanced by sends. When the write fails after a change was made (<paramref name="staged"/>:
    /// its events may be in the state), the activation is given up and writes nothing more, so neither the change nor
    /// its events outlive it unless the write in fact landed (then the next activation relays them). A bookkeeping
    /// write (no change of its own) that fails leaves the activation as it is: its state is written with the next one.
    /// </summary>
    private async Task WriteStateAsync(bool staged = true)
    {
        if (_stateUntrusted)
        {
            throw new InvalidOperationException($"Conversation {_id} is deactivating after a failed state write.");
        }

        Outbox.BeforeWrite(LastSeq);
        try
        {
            await state.WriteStateAsync();
        }
        catch when (staged)
        {
            _stateUntrusted = true;
            DeactivateOnIdle();
            throw;
        }

        _readMarksDirty = false;
        _relayedSinceWrite = false;
    }

    /// <summary>Relays the pending events (oldest first) to the event log; on failure they wait for the next chance.</summary>
    private async Task RelayAsync()
    {
        if (Outbox.Pending.Count == 0)
        {
            return;
        }

        DomainEvent[] batch = [.. Outbox.Pending];
        try
        {
            await eventLog.AppendAsync(batch);
            Outbox.Relayed(batch.Length);
            _relayedSinceWrite = true;
        }
        catch (Exception ex)
        {
            LogRelayFailed(logger, ex, _id, batch.Length);
        }
    }

    /// <summary>
    /// On activation: events a previous activation wrote but may not have relayed (or handed on: the silo may have
    /// died right after the write). Relayed first, then handed to the sinks again, which take a summary or a status
    /// twice without harm; a note is not shown twice (only the directory, consoles and rosters need the catch-up).
    /// </summary>
    private async Task RelayLeftoversAsync()
    {
        if (Outbox.Pending.Count == 0)
        {
            return;
        }

        DomainEvent[] leftovers = [.. Outbox.Pending.Where(e => e.Data is not NoteCreated)];
        await RelayAsync();
        if (leftovers.Length > 0)
        {
            sinks.Committed(Change(leftovers));
        }
    }

    /// <summary>
    /// Appends a message with its message.created event (and the pending events before it) in one commit. Null (and
    /// <paramref name="duplicate"/>) when the store already has this sender's clientMsgId (older than the window).
    /// </summary>
    private async Task<DomainEvent?> AppendAsync(ChatMessage message, Causation cause, Action<ChatMessage>? duplicate = null)
    {
        var created = Outbox.ForMessage(message, cause);
        var batch = Outbox.BatchFor(created);
        using var span = Telemetry.KefuTraces.Step("message store append");
        try
        {
            await store.AppendAsync(_tenant, message, batch);
        }
        catch (DuplicateClientMessageException existing)
        {
            // Older than the in-memory window, but the store remembers every clientMsgId: answer with the original.
            await ReloadFromStoreAsync(CancellationToken.None);
            duplicate?.Invoke(existing.Existing);
            return null;
        }
        catch (Exception ex)
        {
            await RecoverFromFailedAppendAsync(ex, message.Seq);
            throw;
        }

        Outbox.Appended(created, batch.Count - 1);
        _relayedSinceWrite |= batch.Count > 1;
        return created;
    }

    /// <summary>
    /// The write may or may not have landed: re-read the truth so seq, the event numbering and the retry window match
    /// the store. If even that fails (the store is down), this activation's view cannot be trusted: let a new one read it.
    /// </summary>
    private async Task RecoverFromFailedAppendAsync(Exception failure, long seq)
    {
        LogAppendFailed(logger, failure, _id, seq);
        try
        {
            await ReloadFromStoreAsync(CancellationToken.None);
        }
        catch (Exception reloadFailure)
        {
            LogAppendFailed(logger, reloadFailure, _id, seq);
            DeactivateOnIdle();
        }
    }

    /// <summary>A change for the sinks: these events with the summary and audience as they are now.</summary>
    private CommittedChange Change(IReadOnlyList<DomainEvent> events, string? originConnectionId = null) =>
        new(_tenant, _id, events, Summary(), Audience.Snapshot(), originConnectionId);

    private static Causation VisitorCause(string visitorId, string? name) => new(Causation.Visitor, visitorId, name);

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending seq {Seq} to conversation {ConversationId} failed")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string conversationId, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: relaying {Count} events to the event log failed; they stay pending")]
    private static partial void LogRelayFailed(ILogger logger, Exception exception, string conversationId, int count);
}
