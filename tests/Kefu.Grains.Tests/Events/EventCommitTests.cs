using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Events;

/// <summary>
/// Issue #13, item 2: an event exists if and only if its change is durable, and a conversation's events reach the log
/// in seq order even when the log, a state write or an append fails (docs/architecture.md, "Events").
/// </summary>
[Collection(EventFaultsCollection.Name)]
public sealed class EventCommitTests(EventFaultsFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    private async Task<(TestVisitor Visitor, TestAgent Agent, string Id, IConversationGrain Conversation, EventLogReader Log)> OpenConversationAsync()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (id, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        Assert.Equal(agent.Id, (await conversation.GetSummary())!.AssigneeId);
        var log = new EventLogReader(Client, tenant);
        Assert.Equal(3, (await log.NewAsync()).Count); // created, status changed, assigned
        return (visitor, agent, id, conversation, log);
    }

    private static void AssertSeqs(IEnumerable<StoredEvent> events, params long[] seqs) =>
        Assert.Equal(seqs, events.Select(e => e.Seq));

    [Fact]
    public async Task ANewConversationIsHandedOnOnceWithTheQueuesAnswer()
    {
        // Two changes in a row (created, then assigned) would reach an agent by two paths (the tenant's broadcast
        // while it is not a participant, the conversation's own push once it is) in either order: the console could
        // end on the older one. So the sinks hear of a new conversation once, as the queue answered.
        var (_, agent, id, _, _) = await OpenConversationAsync();
        var change = Assert.Single(fixture.Sink.ChangesOf(id));
        Assert.Equal(
            [EventTypes.ConversationCreated, EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned],
            change.Events.Select(e => e.Type));
        Assert.Equal(agent.Id, change.Summary.AssigneeId);
        Assert.Contains(agent.ParticipantKey, change.Audience.GatewaysByParticipant.Keys);
    }

    [Fact]
    public async Task AFailedStateWriteProducesNoEventAndTheNextActivationNumbersOnWithoutAGap()
    {
        var (visitor, agent, id, conversation, log) = await OpenConversationAsync();

        fixture.Faults.FailNextStateWriteOf(Tenancy.Key(visitor.Tenant, id));
        await Assert.ThrowsAnyAsync<Exception>(() => conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, null));
        Assert.Empty(await log.NewAsync());

        // The change never happened; the conversation goes on from its stored state.
        Assert.Equal(ConversationStatus.Open, (await conversation.GetSummary())!.Status);
        (await conversation.SendAsync(visitor.Caller, "c-1", "still there?")).Ok();
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        var events = await log.NewAsync();
        Assert.Equal([EventTypes.MessageCreated, EventTypes.ConversationStatusChanged], events.Select(e => e.Type));
        AssertSeqs(events, 4, 5);
    }

    [Fact]
    public async Task EventsTheLogDidNotTakeGoFirstInTheNextMessagesAppend()
    {
        var (visitor, agent, _, conversation, log) = await OpenConversationAsync();

        fixture.Faults.FailEventLog = true;
        try
        {
            // Durable (the state is written) but not relayed: not readable yet.
            (await conversation.Label(agent.Caller, ["later"], null)).Ok();
            (await conversation.AddNote(agent.Caller, "check the invoice")).Ok();
            Assert.Empty(await log.NewAsync());
        }
        finally
        {
            fixture.Faults.FailEventLog = false;
        }

        (await conversation.SendAsync(agent.Caller, "a-1", "Let me check")).Ok();
        var events = await log.NewAsync();
        Assert.Equal([EventTypes.ConversationUpdated, EventTypes.NoteCreated, EventTypes.MessageCreated], events.Select(e => e.Type));
        AssertSeqs(events, 4, 5, 6);

        // Relayed once: the next change does not repeat them.
        (await conversation.SendAsync(visitor.Caller, "c-1", "thanks")).Ok();
        AssertSeqs(await log.NewAsync(), 7);
    }

    [Fact]
    public async Task EventsLeftPendingAreRelayedWhenTheConversationIsActivatedAgain()
    {
        var (_, agent, _, conversation, log) = await OpenConversationAsync();

        fixture.Faults.FailEventLog = true;
        try
        {
            (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
            Assert.Empty(await log.NewAsync());
        }
        finally
        {
            fixture.Faults.FailEventLog = false;
        }

        // A new activation (after a crash it would be the same) relays what the state still holds.
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(ConversationStatus.Resolved, (await conversation.GetSummary())!.Status);
        var relayed = Assert.Single(await log.NewAsync());
        Assert.Equal(EventTypes.ConversationStatusChanged, relayed.Type);
        Assert.Equal(4, relayed.Seq);

        // And the numbering goes on from there, once.
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Open, null)).Ok();
        var reopened = await log.NewAsync();
        Assert.All(reopened, e => Assert.NotEqual(relayed.Id, e.Id));
        Assert.Equal(5, reopened[0].Seq);
    }

    [Fact]
    public async Task EventsRelayedInTimeAreNotHandedOnAgainByALaterActivation()
    {
        var (_, agent, _, conversation, log) = await OpenConversationAsync();
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        var resolved = Assert.Single(await log.NewAsync());
        Assert.Equal(1, fixture.Sink.TimesHanded(resolved.Id));

        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Equal(ConversationStatus.Resolved, (await conversation.GetSummary())!.Status);
        Assert.Equal(1, fixture.Sink.TimesHanded(resolved.Id));
        Assert.Empty(await log.NewAsync());
    }

    [Fact]
    public async Task AFailedAppendIsNoMessageAndNoEventAndTheRetryIsBoth()
    {
        var (visitor, _, _, conversation, log) = await OpenConversationAsync();

        fixture.Faults.FailMessageAppends = true;
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => conversation.SendAsync(visitor.Caller, "c-1", "hello"));
        }
        finally
        {
            fixture.Faults.FailMessageAppends = false;
        }

        Assert.Empty(await log.NewAsync());
        var ack = (await conversation.SendAsync(visitor.Caller, "c-1", "hello")).Ok();
        Assert.Equal(1, ack.Seq);
        var created = Assert.Single(await log.NewAsync());
        Assert.Equal(4, created.Seq);
        Assert.Contains(ack.MessageId.ToString(), created.DataJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheEventSeqContinuesAcrossActivationsFromTheStateAndTheMessages()
    {
        var (visitor, agent, _, conversation, log) = await OpenConversationAsync();
        for (var i = 1; i <= 5; i++)
        {
            (await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok();
        }

        // Messages after the last state write are counted from the store on activation.
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        (await conversation.SendAsync(agent.Caller, "a-1", "answer")).Ok();
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, null)).Ok();
        await Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        (await conversation.SendAsync(agent.Caller, "a-2", "anything else?")).Ok();
        AssertSeqs(await log.NewAsync(), 4, 5, 6, 7, 8, 9, 10, 11);
    }
}
