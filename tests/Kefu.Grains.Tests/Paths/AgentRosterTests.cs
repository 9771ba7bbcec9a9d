using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Participants;

namespace Kefu.Grains.Tests.Paths;

/// <summary>The agent's roster of active conversations and the sink that feeds it, without a cluster (issue #13).</summary>
public sealed class AgentRosterTests
{
    private const string Tenant = "acme";
    private const string ConversationId = "01M96PRGY21B2EN5A0PPAH0TA3";

    [Fact]
    public void A_resolution_takes_a_conversation_out_and_a_reopening_brings_it_back()
    {
        var roster = new AgentRoster([], []);
        Assert.True(roster.Joined("c1"));
        Assert.False(roster.Joined("c1"));
        Assert.True(roster.MarkInactive("c1", 5));
        Assert.False(roster.Contains("c1"));
        Assert.False(roster.MarkInactive("c1", 6)); // not there: nothing changes
        Assert.True(roster.MarkActive("c1", 7));
        Assert.True(roster.Contains("c1"));
    }

    [Fact]
    public void A_change_older_than_the_one_that_made_a_conversation_active_is_ignored()
    {
        var roster = new AgentRoster([], []);
        Assert.True(roster.MarkActive("c1", 9)); // reopened at event 9 ...
        Assert.False(roster.MarkInactive("c1", 4)); // ... the resolution of event 4 arrives late
        Assert.True(roster.Contains("c1"));
        Assert.True(roster.MarkInactive("c1", 12));
        Assert.Empty(roster.Active);
    }

    [Fact]
    public void Retain_drops_what_is_not_kept()
    {
        var roster = new AgentRoster(["a", "b", "c"], new() { ["b"] = 3 });
        Assert.True(roster.Retain(id => id != "b"));
        Assert.Equal(["a", "c"], roster.Active.Order());
        Assert.False(roster.Retain(_ => true));
    }

    [Fact]
    public void Resolving_makes_the_conversation_inactive_for_all_its_agents_and_any_other_status_active()
    {
        var resolved = Change(Event(4, new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Resolved, Summary(ConversationStatus.Resolved, "bob", "carol"))));
        Assert.Equal([new RosterUpdate("bob", false, 4), new RosterUpdate("carol", false, 4)], AgentRosterSink.Updates(resolved));

        var reopened = Change(Event(6, new ConversationStatusChanged(ConversationStatus.Resolved, ConversationStatus.Queued, Summary(ConversationStatus.Queued, "bob"))));
        Assert.Equal([new RosterUpdate("bob", true, 6)], AgentRosterSink.Updates(reopened));

        var snoozed = Change(Event(7, new ConversationStatusChanged(ConversationStatus.Open, ConversationStatus.Snoozed, Summary(ConversationStatus.Snoozed, "bob"))));
        Assert.Equal([new RosterUpdate("bob", true, 7)], AgentRosterSink.Updates(snoozed));
    }

    [Fact]
    public void An_assignment_makes_it_active_for_the_assignee_and_a_transfer_lets_go_of_whoever_handed_it_on()
    {
        var assigned = Change(Event(3, new ConversationAssigned("dan", "Dan", null, Summary(ConversationStatus.Open, "dan"))));
        Assert.Equal([new RosterUpdate("dan", true, 3)], AgentRosterSink.Updates(assigned));

        // Bob hands it to Carol: Bob is no longer a participant, Carol is.
        var transferred = Change(
            Event(8, new ConversationTransferred("bob", "carol", null, Summary(ConversationStatus.Open, "carol")), new Causation(Causation.Agent, "bob")),
            Event(9, new ConversationAssigned("carol", "Carol", "bob", Summary(ConversationStatus.Open, "carol"))));
        Assert.Equal([new RosterUpdate("bob", false, 8), new RosterUpdate("carol", true, 8), new RosterUpdate("carol", true, 9)], AgentRosterSink.Updates(transferred));

        // An admin hands Bob's conversation to a team and keeps access: only Bob, no longer in it, lets go.
        var toTeam = Change(Event(10, new ConversationTransferred("bob", null, "billing", Summary(ConversationStatus.Queued, "admin")), new Causation(Causation.Agent, "admin")));
        Assert.Equal([new RosterUpdate("bob", false, 10)], AgentRosterSink.Updates(toTeam));
    }

    [Fact]
    public void Messages_notes_labels_and_changes_without_events_concern_no_roster()
    {
        var summary = Summary(ConversationStatus.Open, "bob");
        var message = new ChatMessage(ConversationId, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v1", null), "hi", DateTimeOffset.UtcNow, null);
        Assert.Empty(AgentRosterSink.Updates(Change(Event(1, new MessageCreated(message)), Event(2, new ConversationUpdated(["tags"], summary)))));
        Assert.Empty(AgentRosterSink.Updates(Change()));
    }

    private static ConversationSummary Summary(string status, params string[] agents) =>
        new(ConversationId, Tenant, "default", "v1", null, status, agents.FirstOrDefault(), 3, DateTimeOffset.UtcNow, agents);

    private static DomainEvent Event(long seq, EventData data, Causation? causation = null) =>
        new(Ulid.NewUlid(), Tenant, ConversationId, seq, DateTimeOffset.UtcNow, causation ?? Causation.Of("dispatcher"), data);

    private static CommittedChange Change(params DomainEvent[] events) =>
        new(Tenant, ConversationId, events, Summary(ConversationStatus.Open, "bob"), new AudienceSnapshot($"{Tenant}/visitor/v1", new Dictionary<string, string[]>()));
}
