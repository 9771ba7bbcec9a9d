using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ContactCentre;

/// <summary>What happens to an assigned conversation: status changes, snooze, reopen, transfer, labels, notes, CSAT, timings.</summary>
[Collection(ContactCentreCollection.Name)]
public sealed class LifecycleTests(ContactCentreFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task PendingKeepsTheAssigneeFreesTheSlotAndAVisitorMessageReopensIt()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 1);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var (waitingId, waiting) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(ConversationStatus.Queued, (await waiting.GetSummary())!.Status);

        var pending = (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, null)).Ok();
        Assert.Equal(ConversationStatus.Pending, pending.Status);
        Assert.Equal(agent.Id, pending.AssigneeId);

        // The freed slot goes to the waiting conversation.
        await Scenario.EventuallyAsync(() => waiting.GetSummary(), s => s!.Status == ConversationStatus.Open && s.AssigneeId == agent.Id, "the slot reused");

        // The visitor writes: back to the queue (the agent is full), message stored and acked.
        var ack = (await conversation.SendAsync(visitor.Caller, "c-1", "any news?")).Ok();
        Assert.Equal(1, ack.Seq);
        var requeued = (await conversation.GetSummary())!;
        Assert.Equal(ConversationStatus.Queued, requeued.Status);
        Assert.Null(requeued.AssigneeId);
        Assert.Equal(1, requeued.QueuePosition);

        // Once the agent has room again it comes back to them.
        (await waiting.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        var reopened = await Scenario.EventuallyAsync(() => conversation.GetSummary(), s => s!.Status == ConversationStatus.Open, "reassigned");
        Assert.Equal(agent.Id, reopened!.AssigneeId);
        Assert.DoesNotContain(waitingId, (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.Single(a => a.AgentId == agent.Id).OpenConversations);
    }

    [Fact]
    public async Task ReopeningPrefersThePreviousAssigneeOverTheLeastBusyAgent()
    {
        var tenant = Scenario.NewTenant();
        var a = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var b = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var first = (await conversation.GetSummary())!.AssigneeId!;
        var (_, other) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var second = (await other.GetSummary())!.AssigneeId!;
        Assert.NotEqual(first, second);
        var firstAgent = first == a.Id ? a : b;

        (await conversation.ChangeStatus(firstAgent.Caller, ConversationStatus.Resolved, null)).Ok();

        // A third conversation goes to the now idle first agent, so both hold one and the first was assigned last:
        // least_busy alone would pick the second agent.
        var (_, third) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(first, (await third.GetSummary())!.AssigneeId);

        (await conversation.SendAsync(visitor.Caller, "c-1", "one more thing")).Ok();
        var reopened = (await conversation.GetSummary())!;
        Assert.Equal(ConversationStatus.Open, reopened.Status);
        Assert.Equal(first, reopened.AssigneeId);

        // An agent may reopen too (open on a pending/snoozed/resolved conversation), and not an open one.
        (await conversation.ChangeStatus(firstAgent.Caller, ConversationStatus.Pending, null)).Ok();
        Assert.Equal(ConversationStatus.Open, (await conversation.ChangeStatus(firstAgent.Caller, ConversationStatus.Open, null)).Ok().Status);
        (await conversation.ChangeStatus(firstAgent.Caller, ConversationStatus.Open, null)).AssertError(ErrorCodes.InvalidState);
    }

    [Fact]
    public async Task ASnoozedConversationIsWokenByItsReminderEvenAfterDeactivation()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Snoozed, null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Snoozed, DateTimeOffset.UtcNow.AddSeconds(-1))).AssertError(ErrorCodes.InvalidField);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, DateTimeOffset.UtcNow.AddHours(1))).AssertError(ErrorCodes.InvalidField);

        var until = DateTimeOffset.UtcNow.AddSeconds(2);
        var snoozed = (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Snoozed, until)).Ok();
        Assert.Equal(ConversationStatus.Snoozed, snoozed.Status);
        Assert.Equal(until, snoozed.SnoozedUntil);
        Assert.Empty((await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.Single(x => x.AgentId == agent.Id).OpenConversations);

        // Nothing keeps it in memory: the reminder brings it back.
        await fixture.Cluster.DeactivateAsync(conversation);
        var woken = await Scenario.EventuallyAsync(() => conversation.GetSummary(), s => s!.Status != ConversationStatus.Snoozed, "the snooze to end", TimeSpan.FromSeconds(20));
        Assert.True(DateTimeOffset.UtcNow >= until);
        Assert.Equal(ConversationStatus.Open, woken!.Status);
        Assert.Equal(agent.Id, woken.AssigneeId);
        Assert.Null(woken.SnoozedUntil);
        Assert.Equal([conversationId], (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.Single(x => x.AgentId == agent.Id).OpenConversations);

        // The reminder is gone once it has done its work.
        await Task.Delay(500);
        var table = fixture.Cluster.Silos[0].ServiceProvider.GetService(typeof(Orleans.IReminderTable)) as Orleans.IReminderTable;
        Assert.NotNull(table);
        var rows = await table.ReadRows(conversation.GetGrainId());
        Assert.DoesNotContain(rows.Reminders, r => r.ReminderName == ConversationGrain.SnoozeReminder);
    }

    [Fact]
    public async Task AVisitorMessageEndsASnoozeEarly()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Snoozed, DateTimeOffset.UtcNow.AddHours(1))).Ok();

        (await conversation.SendAsync(visitor.Caller, "c-1", "are you there?")).Ok();
        var reopened = (await conversation.GetSummary())!;
        Assert.Equal(ConversationStatus.Open, reopened.Status);
        Assert.Equal(agent.Id, reopened.AssigneeId);
        Assert.Null(reopened.SnoozedUntil);
    }

    [Fact]
    public async Task StatusChangesAreForParticipatingAgentsAndAdminsInAnAllowedOrder()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var outsider = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var (_, waiting) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(ConversationStatus.Open, (await conversation.GetSummary())!.Status);

        (await conversation.ChangeStatus(visitor.Caller, ConversationStatus.Resolved, null)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.ChangeStatus(outsider.Caller, ConversationStatus.Resolved, null)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Queued, null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.ChangeStatus(agent.Caller, "closed", null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Open, null)).AssertError(ErrorCodes.InvalidState);

        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, null)).Ok();
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, null)).AssertError(ErrorCodes.InvalidState);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).AssertError(ErrorCodes.InvalidState);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Pending, null)).AssertError(ErrorCodes.InvalidState);

        // A waiting conversation is taken, not opened or made pending; an admin may resolve it (spam) and it leaves the queue.
        Assert.Equal(ConversationStatus.Open, (await waiting.GetSummary())!.Status); // the agent had room
        (await agent.Grain.SetStatus(AgentStatus.Away)).Ok();
        var (thirdWaitingId, thirdWaiting) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(ConversationStatus.Queued, (await thirdWaiting.GetSummary())!.Status);
        (await thirdWaiting.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).AssertError(ErrorCodes.NotAllowed);
        (await thirdWaiting.ChangeStatus(admin.Caller, ConversationStatus.Pending, null)).AssertError(ErrorCodes.InvalidState);
        Assert.Equal(ConversationStatus.Resolved, (await thirdWaiting.ChangeStatus(admin.Caller, ConversationStatus.Resolved, null)).Ok().Status);
        Assert.DoesNotContain((await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Waiting, w => w.ConversationId == thirdWaitingId);
    }
}
