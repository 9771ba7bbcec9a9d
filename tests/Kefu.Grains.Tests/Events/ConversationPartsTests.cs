using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;

namespace Kefu.Grains.Tests.Events;

/// <summary>The conversation grain's plain parts, without a cluster: message window, audience, outbox, lifecycle events.</summary>
public sealed class ConversationPartsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private static ChatMessage Message(long seq, ParticipantRole role = ParticipantRole.Visitor, string sender = "v1", string? clientMsgId = null) =>
        new("c1", Ulid.NewUlid(T0.AddSeconds(seq)), seq, new Sender(role, sender, null), $"m{seq}", T0.AddSeconds(seq), clientMsgId ?? $"c-{seq}");

    private static ConversationSummary Summary(string status = ConversationStatus.Open, string? assignee = "a1") =>
        new("c1", "t", "default", "v1", null, status, assignee, 0, T0, assignee is null ? [] : [assignee], AssigneeName: assignee is null ? null : "Ann");

    [Fact]
    public void TheMessageWindowAnswersRetriesInsideTheIdempotencyWindowAndPagesItsRecentMessages()
    {
        var window = new MessageWindow(recentWindow: 4, idempotencyWindow: 6);
        for (var seq = 1; seq <= 10; seq++)
        {
            var ack = window.Remember(Message(seq));
            Assert.Equal(seq, ack.Seq);
        }

        Assert.Equal(10, window.LastSeq);
        Assert.True(window.TryGetAck(ParticipantRole.Visitor, "v1", "c-10", out var latest));
        Assert.Equal(10, latest.Seq);
        Assert.True(window.TryGetAck(ParticipantRole.Visitor, "v1", "c-5", out _));
        Assert.False(window.TryGetAck(ParticipantRole.Visitor, "v1", "c-4", out _)); // beyond the 6 newest
        Assert.False(window.TryGetAck(ParticipantRole.Agent, "v1", "c-10", out _)); // another sender's id space

        // The window holds between 4 and 8 messages: the newest are served, older ones need the store.
        Assert.Equal([9L, 10L], window.After(8, 100)!.Select(m => m.Seq));
        Assert.Equal([7L], window.After(6, 1)!.Select(m => m.Seq));
        Assert.Empty(window.After(10, 5)!);
        Assert.Null(window.After(0, 5));

        window.Clear();
        Assert.Equal(0, window.LastSeq);
        Assert.False(window.TryGetAck(ParticipantRole.Visitor, "v1", "c-10", out _));
    }

    [Fact]
    public void TheAudienceKeepsTheNewestPresenceAndSharesOneSnapshotUntilItChanges()
    {
        var audience = new ConversationAudience("t/visitor/v1");
        Assert.True(audience.Apply(new ParticipantPresence("t/visitor/v1", 2, ["gw-1"])));
        Assert.False(audience.Apply(new ParticipantPresence("t/visitor/v1", 1, ["gw-old"]))); // late, older
        Assert.True(audience.Apply(new ParticipantPresence("t/agent/a1", 1, ["gw-1", "gw-2"])));
        Assert.True(audience.Apply(new ParticipantPresence("t/agent/a2", 1, [])));

        var snapshot = audience.Snapshot();
        Assert.Same(snapshot, audience.Snapshot());
        Assert.Equal("t/visitor/v1", snapshot.VisitorKey);
        Assert.Equal(["gw-1"], snapshot.GatewaysByParticipant["t/visitor/v1"]);
        Assert.Equal(["gw-1", "gw-2"], snapshot.GatewaysByParticipant["t/agent/a1"]);
        Assert.False(snapshot.GatewaysByParticipant.ContainsKey("t/agent/a2")); // offline: nothing to route

        // An agent let go hears that change once more, then no longer.
        var gone = audience.Remove("t/agent/a1");
        Assert.NotNull(gone);
        var withLeaving = audience.SnapshotWith(gone);
        Assert.True(withLeaving.GatewaysByParticipant.ContainsKey("t/agent/a1"));
        Assert.NotSame(snapshot, audience.Snapshot());
        Assert.False(audience.Snapshot().GatewaysByParticipant.ContainsKey("t/agent/a1"));
        Assert.Null(audience.Remove("t/agent/a1"));
    }

    [Fact]
    public void TheOutboxNumbersEveryEventAndSendsPendingOnesFirst()
    {
        var state = new ConversationState();
        var outbox = new EventOutbox("t", "c1", state);
        outbox.Recover(lastMessageSeq: 0);
        var visitor = new Causation(Causation.Visitor, "v1");

        // A lifecycle change: staged into the state (written with it), pending until relayed.
        var created = outbox.Stage([(new ConversationCreated(Summary(ConversationStatus.Queued, null)), visitor)], T0);
        outbox.BeforeWrite(lastMessageSeq: 0);
        Assert.Equal(1, Assert.Single(created).Seq);
        Assert.Equal(created, state.PendingEvents);

        // Not relayed: it rides first in the next message's batch.
        var m1 = Message(1);
        var e1 = outbox.ForMessage(m1, visitor);
        Assert.Equal(2, e1.Seq);
        Assert.Equal(m1.Ts, e1.Time);
        var batch = outbox.BatchFor(e1);
        Assert.Equal([1L, 2L], batch.Select(e => e.Seq));
        outbox.Appended(e1, batch.Count - 1);
        Assert.Empty(state.PendingEvents);
        Assert.Equal(2, outbox.LastSeq);

        // A failed append counts nothing: the next message gets the same seq.
        var m2 = Message(2);
        Assert.Equal(3, outbox.ForMessage(m2, visitor).Seq);
        var e2 = outbox.ForMessage(m2, visitor);
        outbox.Appended(e2, 0);

        var staged = outbox.Stage([(new ConversationStatusChanged(ConversationStatus.Queued, ConversationStatus.Open, Summary()), visitor), (new ConversationAssigned("a1", "Ann", null, Summary()), Causation.Of("dispatcher"))], T0);
        Assert.Equal([4L, 5L], staged.Select(e => e.Seq));
        outbox.BeforeWrite(lastMessageSeq: 2);
        outbox.Relayed(1);
        Assert.Equal([5L], state.PendingEvents.Select(e => e.Seq));

        // Three more messages after that write: a new activation counts them from the state's numbers.
        var recovered = new EventOutbox("t", "c1", state);
        recovered.Recover(lastMessageSeq: 5);
        Assert.Equal(8, recovered.LastSeq);
    }

    [Fact]
    public void AConversationStoredBeforeEventsCountsItsMessagesAsEvents()
    {
        var outbox = new EventOutbox("t", "c1", new ConversationState());
        outbox.Recover(lastMessageSeq: 42);
        Assert.Equal(43, outbox.ForMessage(Message(43), Causation.Of("test")).Seq);
    }

    [Fact]
    public void LifecycleEventsFollowWhatChanged()
    {
        var agent = new Causation(Causation.Agent, "a1", "Ann");
        var dispatcher = Causation.Of("dispatcher");
        var queued = new LifecycleFacts(ConversationStatus.Queued, null, [], null, [], ConversationPriority.Normal, null, null);
        var open = queued with { Status = ConversationStatus.Open, AssigneeId = "a1", AgentIds = ["a1"] };

        // Assigned by the dispatcher out of the queue: the status change is the caller's, the choice the dispatcher's.
        var events = LifecycleEvents.Between(queued, open, Summary(), agent, dispatcher);
        Assert.Collection(
            events,
            e => Assert.Equal((ConversationStatus.Queued, ConversationStatus.Open), (((ConversationStatusChanged)e.Data).From, ((ConversationStatusChanged)e.Data).To)),
            e =>
            {
                var assigned = Assert.IsType<ConversationAssigned>(e.Data);
                Assert.Equal(("a1", "Ann", null), (assigned.AgentId, assigned.AgentName, assigned.PreviousAgentId));
                Assert.Same(dispatcher, e.Cause);
            });

        // Nothing changed: no event.
        Assert.Empty(LifecycleEvents.Between(open, open, Summary(), agent));

        // Another agent joins: the participants changed.
        var joined = LifecycleEvents.Between(open, open with { AgentIds = ["a1", "a2"] }, Summary(), agent);
        Assert.Equal([LifecycleEvents.Agents], Assert.IsType<ConversationUpdated>(Assert.Single(joined).Data).Changed);

        // Tags and priority together: one update naming both.
        var labelled = LifecycleEvents.Between(open, open with { Tags = ["vip"], Priority = ConversationPriority.Urgent }, Summary(), agent);
        Assert.Equal([LifecycleEvents.Tags, LifecycleEvents.Priority], Assert.IsType<ConversationUpdated>(Assert.Single(labelled).Data).Changed);

        // A transfer to another agent who is let in while the former is let go: transferred, then assigned.
        var transfer = new ConversationTransferred("a1", "a2", null, Summary());
        var moved = LifecycleEvents.Between(open, open with { AssigneeId = "a2", AgentIds = ["a2"] }, Summary(assignee: "a2"), agent, agent, transfer);
        Assert.Equal([EventTypes.ConversationTransferred, EventTypes.ConversationAssigned], moved.Select(e => e.Data.Type));
        Assert.Equal("a1", ((ConversationAssigned)moved[1].Data).PreviousAgentId);

        // Reopened and handed straight back to the same agent: status changed and assigned again.
        var pending = open with { Status = ConversationStatus.Pending };
        Assert.Equal(
            [EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned],
            LifecycleEvents.Between(pending, open, Summary(), agent, dispatcher).Select(e => e.Data.Type));

        // Snoozed again until later: an update, not a status change.
        var snoozed = open with { Status = ConversationStatus.Snoozed, SnoozedUntil = T0 };
        var later = LifecycleEvents.Between(snoozed, snoozed with { SnoozedUntil = T0.AddHours(1) }, Summary(), agent);
        Assert.Equal([LifecycleEvents.SnoozedUntil], Assert.IsType<ConversationUpdated>(Assert.Single(later).Data).Changed);
    }
}
