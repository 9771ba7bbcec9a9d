using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Events;

/// <summary>Issue #13, items 1 and 7: each durable change of a conversation is one typed event in the tenant's log.</summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class ConversationEventTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    private static JsonElement Data(StoredEvent e) => JsonDocument.Parse(e.DataJson).RootElement;

    private static void AssertInOrder(IReadOnlyList<StoredEvent> events)
    {
        for (var i = 1; i < events.Count; i++)
        {
            Assert.True(events[i].Cursor > events[i - 1].Cursor, "cursors increase");
        }

        foreach (var conversation in events.GroupBy(e => e.ConversationId))
        {
            // The conversation's event seq: 1, 2, 3, … in cursor order.
            Assert.Equal(Enumerable.Range(1, conversation.Count()).Select(i => (long)i), conversation.Select(e => e.Seq));
        }
    }

    [Fact]
    public async Task StartingAConversationAndSendingCreateEventsAndTheAwayMessageIsTheSystems()
    {
        var tenant = Scenario.NewTenant();
        var log = new EventLogReader(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant, name: "Ana");
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        var created = Assert.Single(await log.NewAsync());
        Assert.Equal(EventTypes.ConversationCreated, created.Type);
        Assert.Equal(conversationId, created.ConversationId);
        Assert.Equal(1, created.Seq);
        Assert.Equal(new Causation(Causation.Visitor, visitor.Id, "Ana"), created.Causation);
        Assert.Equal(ConversationStatus.Queued, Data(created).GetProperty("conversation").GetProperty("status").GetString());

        // Nobody online: the visitor's message is followed by the inbox's away message, both stored, both events.
        var ack = (await conversation.SendAsync(visitor.Caller, "c-1", "hello")).Ok();
        var messages = await log.NewAsync();
        Assert.Equal([EventTypes.MessageCreated, EventTypes.MessageCreated], messages.Select(e => e.Type));
        var message = Data(messages[0]).GetProperty("message");
        Assert.Equal(ack.MessageId.ToString(), message.GetProperty("messageId").GetString());
        Assert.Equal(1, message.GetProperty("seq").GetInt64());
        Assert.Equal(2, messages[0].Seq);
        Assert.Equal(Causation.Visitor, messages[0].Causation.Kind);
        Assert.Equal(new Causation(Causation.System, "away-message"), messages[1].Causation);
        Assert.Equal("system", Data(messages[1]).GetProperty("message").GetProperty("sender").GetProperty("role").GetString());

        // A retry of the same clientMsgId is no new message and no event.
        Assert.Equal(ack, (await conversation.SendAsync(visitor.Caller, "c-1", "hello")).Ok());
        (await conversation.SendAsync(visitor.Caller, "c-2", " ")).AssertError(ErrorCodes.InvalidField);
        Assert.Empty(await log.NewAsync());
        AssertInOrder(await log.AllAsync());
    }

    [Fact]
    public async Task AssignmentsAreEventsCausedByWhoeverChoseTheAgent()
    {
        var tenant = Scenario.NewTenant();
        var log = new EventLogReader(Client, tenant);
        var online = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        // The dispatcher hands it to the online agent at once.
        var events = await log.NewAsync();
        Assert.Equal([EventTypes.ConversationCreated, EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned], events.Select(e => e.Type));
        Assert.Equal(("queued", "open"), (Data(events[1]).GetProperty("from").GetString(), Data(events[1]).GetProperty("to").GetString()));
        Assert.Equal(online.Id, Data(events[2]).GetProperty("agentId").GetString());
        Assert.Equal(new Causation(Causation.System, "dispatcher"), events[2].Causation);
        Assert.Equal(online.Id, Data(events[2]).GetProperty("conversation").GetProperty("assigneeId").GetString());

        // Another agent joins: the participants changed, the assignee did not.
        var helper = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        (await helper.Grain.Join((await conversation.GetSummary())!.ConversationId)).Ok();
        var joined = Assert.Single(await log.NewAsync());
        Assert.Equal(EventTypes.ConversationUpdated, joined.Type);
        Assert.Equal(["agents"], Data(joined).GetProperty("changed").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(helper.Id, joined.Causation.Id);

        // Joining again changes nothing: no event.
        (await helper.Grain.Join((await conversation.GetSummary())!.ConversationId)).Ok();
        Assert.Empty(await log.NewAsync());
        AssertInOrder(await log.AllAsync());
    }

    [Fact]
    public async Task AnAgentTakingAWaitingConversationIsAnAssignmentByThatAgent()
    {
        var tenant = Scenario.NewTenant();
        var log = new EventLogReader(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var (conversationId, _) = await Scenario.StartConversationAsync(Client, visitor);
        await log.NewAsync();

        (await agent.Grain.Join(conversationId)).Ok();
        var events = await log.NewAsync();
        Assert.Equal([EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal(new Causation(Causation.Agent, agent.Id, agent.Caller.Name), e.Causation));
    }

    [Fact]
    public async Task StatusChangesTransfersLabelsRatingsAndNotesAreEventsAndRefusedOnesAreNot()
    {
        var tenant = Scenario.NewTenant();
        var log = new EventLogReader(Client, tenant);
        var first = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var second = await Scenario.NewOnlineAgentAsync(Client, tenant);
        await log.NewAsync();

        // Tags and priority: one update naming both; the same labels again change nothing.
        (await conversation.Label(first.Caller, ["VIP", "billing"], ConversationPriority.High)).Ok();
        var labelled = Assert.Single(await log.NewAsync());
        Assert.Equal(EventTypes.ConversationUpdated, labelled.Type);
        Assert.Equal(["tags", "priority"], Data(labelled).GetProperty("changed").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["vip", "billing"], Data(labelled).GetProperty("conversation").GetProperty("tags").EnumerateArray().Select(c => c.GetString()));
        (await conversation.Label(first.Caller, ["vip", "billing"], ConversationPriority.High)).Ok();
        Assert.Empty(await log.NewAsync());

        // A note: an event only for those who ask for it by name.
        var note = (await conversation.AddNote(first.Caller, "VIP customer")).Ok();
        var noted = Assert.Single(await log.NewAsync());
        Assert.Equal(EventTypes.NoteCreated, noted.Type);
        Assert.Equal(note.NoteId, Data(noted).GetProperty("note").GetProperty("noteId").GetString());
        var byDefault = await Client.GetGrain<IEventLogGrain>(tenant).Read(0, null, 500);
        Assert.DoesNotContain(byDefault.Events, e => e.Type == EventTypes.NoteCreated);

        // Transfer to another agent: transferred, then assigned; the former agent is let go.
        (await conversation.Transfer(first.Caller, second.Id, null)).Ok();
        var transfer = await log.NewAsync();
        Assert.Equal([EventTypes.ConversationTransferred, EventTypes.ConversationAssigned], transfer.Select(e => e.Type));
        Assert.Equal((first.Id, second.Id), (Data(transfer[0]).GetProperty("fromAgentId").GetString(), Data(transfer[0]).GetProperty("toAgentId").GetString()));
        Assert.Equal(first.Id, Data(transfer[1]).GetProperty("previousAgentId").GetString());

        // Refused: no event.
        (await conversation.ChangeStatus(first.Caller, ConversationStatus.Resolved, null)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.ChangeStatus(second.Caller, ConversationStatus.Open, null)).AssertError(ErrorCodes.InvalidState);
        (await conversation.Rate(visitor.Caller, 5, null)).AssertError(ErrorCodes.InvalidState);
        Assert.Empty(await log.NewAsync());

        // Snoozed, snoozed until later, resolved, rated.
        var until = DateTimeOffset.UtcNow.AddHours(1);
        (await conversation.ChangeStatus(second.Caller, ConversationStatus.Snoozed, until)).Ok();
        (await conversation.ChangeStatus(second.Caller, ConversationStatus.Snoozed, until.AddHours(1))).Ok();
        (await conversation.ChangeStatus(second.Caller, ConversationStatus.Resolved, null)).Ok();
        (await conversation.Rate(visitor.Caller, 4, "quick")).Ok();
        var lifecycle = await log.NewAsync();
        Assert.Equal(
            [EventTypes.ConversationStatusChanged, EventTypes.ConversationUpdated, EventTypes.ConversationStatusChanged, EventTypes.ConversationRated],
            lifecycle.Select(e => e.Type));
        Assert.Equal(["snoozedUntil"], Data(lifecycle[1]).GetProperty("changed").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(("snoozed", "resolved"), (Data(lifecycle[2]).GetProperty("from").GetString(), Data(lifecycle[2]).GetProperty("to").GetString()));
        Assert.Equal(4, Data(lifecycle[3]).GetProperty("rating").GetProperty("rating").GetInt32());
        Assert.Equal(Causation.Visitor, lifecycle[3].Causation.Kind);

        // The visitor writes again: reopened (caused by the visitor), handed back by the dispatcher, then the message.
        (await conversation.SendAsync(visitor.Caller, "c-again", "one more thing")).Ok();
        var reopened = await log.NewAsync();
        Assert.Equal([EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned, EventTypes.MessageCreated], reopened.Select(e => e.Type));
        Assert.Equal(("resolved", "open"), (Data(reopened[0]).GetProperty("from").GetString(), Data(reopened[0]).GetProperty("to").GetString()));
        Assert.Equal(visitor.Id, reopened[0].Causation.Id);
        Assert.Equal("dispatcher", reopened[1].Causation.Id);

        AssertInOrder(await log.AllAsync());
    }

    [Fact]
    public async Task AVisitorWhoMustWaitIsToldItsPlaceInTheQueueAtOnce()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 1);
        await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));

        // The only agent is busy: the queue's answer (no event of its own) still reaches the visitor as a summary.
        var waiting = await Scenario.NewVisitorAsync(Client, tenant);
        await waiting.Grain.Connect(gateway.Id, "conn-waiting");
        var (id, _) = await Scenario.StartConversationAsync(Client, waiting);
        await gateway.WaitForAsync(
            waiting.ParticipantKey,
            e => e is ConversationEvent c && c.ConversationId == id && c.Summary.QueuePosition == 1,
            "the visitor's queue position");
        Assert.NotNull(agent);
    }

    [Fact]
    public async Task TypingAndReadingAreNotEvents()
    {
        var tenant = Scenario.NewTenant();
        var log = new EventLogReader(Client, tenant);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var ack = (await conversation.SendAsync(visitor.Caller, "c-1", "hi")).Ok();
        await log.NewAsync();

        (await conversation.Typing(agent.Caller, true)).Ok();
        (await conversation.MarkRead(agent.Caller, ack.Seq)).Ok();
        Assert.Empty(await log.NewAsync());
    }
}
