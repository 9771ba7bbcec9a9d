using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ContactCentre;

/// <summary>A conversation's way from the first visitor message to an agent: queue, assignment, claims, away message.</summary>
[Collection(ContactCentreCollection.Name)]
public sealed class QueueAndAssignmentTests(ContactCentreFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task WithoutAnOnlineAgentTheFirstMessageQueuesTheConversationAndGetsTheAwayMessageOnce()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewAgentAsync(Client, tenant); // exists, but offline
        await using var gateway = await TestGateway.StartAsync(Client);
        var first = await Scenario.NewVisitorAsync(Client, tenant, "First");
        var second = await Scenario.NewVisitorAsync(Client, tenant, "Second");
        await first.Grain.Connect(gateway.Id, "conn-first");

        var (firstId, firstConversation) = await Scenario.StartConversationAsync(Client, first);
        var queued = (await firstConversation.GetSummary())!;
        Assert.Equal(ConversationStatus.Queued, queued.Status);
        Assert.Null(queued.AssigneeId);
        Assert.Equal(1, queued.QueuePosition);
        Assert.Empty(queued.AgentIds);

        var (_, secondConversation) = await Scenario.StartConversationAsync(Client, second);
        Assert.Equal(2, (await secondConversation.GetSummary())!.QueuePosition);

        // The visitor's message first, then the inbox's away message from the system; once only.
        var hello = (await firstConversation.SendAsync(first.Caller, "c-1", "hello?")).Ok();
        Assert.Equal(1, hello.Seq);
        (await firstConversation.SendAsync(first.Caller, "c-2", "anyone?")).Ok();
        var history = (await firstConversation.GetMessages(first.Caller, 0, 100)).Ok().Messages;
        Assert.Equal([ParticipantRole.Visitor, ParticipantRole.System, ParticipantRole.Visitor], history.Select(m => m.Sender.Role));
        Assert.Equal([1L, 2L, 3L], history.Select(m => m.Seq));
        Assert.Equal(ConversationGrain.DefaultAwayMessage, history[1].Text);
        var pushed = await gateway.WaitForAsync(first.ParticipantKey, e => e is MessageEvent { Message.Sender.Role: ParticipantRole.System }, "the away message");
        Assert.Equal(firstId, pushed.Event.ConversationId);

        // After a reactivation it is still not sent again.
        await fixture.Cluster.DeactivateAsync(firstConversation);
        (await firstConversation.SendAsync(first.Caller, "c-3", "hello again")).Ok();
        var after = (await firstConversation.GetMessages(first.Caller, 0, 100)).Ok().Messages;
        Assert.Single(after, m => m.Sender.Role == ParticipantRole.System);
        Assert.Equal(ConversationStatus.Queued, (await firstConversation.GetSummary())!.Status);
    }

    [Fact]
    public async Task OutsideBusinessHoursTheInboxsOwnAwayMessageIsSentEvenWithAgentsOnline()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        var inbox = new InboxConfig(
            "night", "Night desk", string.Empty, AssignmentPolicies.Manual, null, [],
            new BusinessHours("Etc/UTC", []), "We open at 9:00.", null, false);
        (await Client.GetGrain<ITenantGrain>(tenant).PutInbox(inbox)).Ok();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant, inbox: "night");
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.SendAsync(visitor.Caller, "c-1", "hi")).Ok();
        var history = (await conversation.GetMessages(visitor.Caller, 0, 100)).Ok().Messages;
        Assert.Equal(["hi", "We open at 9:00."], history.Select(m => m.Text));
        Assert.Equal(ParticipantRole.System, history[1].Sender.Role);
    }

    [Fact]
    public async Task AStaffedInboxSendsNoAwayMessage()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.SendAsync(visitor.Caller, "c-1", "hi")).Ok();
        (await conversation.SendAsync(visitor.Caller, "c-2", "there")).Ok();
        var history = (await conversation.GetMessages(visitor.Caller, 0, 100)).Ok().Messages;
        Assert.All(history, m => Assert.Equal(ParticipantRole.Visitor, m.Sender.Role));
    }

    [Fact]
    public async Task AnOnlineAgentIsAssignedAtOnceAndTheAssignmentIsConfirmed()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, gatewayId: gateway.Id);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        var summary = (await conversation.GetSummary())!;
        Assert.Equal(ConversationStatus.Open, summary.Status);
        Assert.Equal(agent.Id, summary.AssigneeId);
        Assert.Equal([agent.Id], summary.AgentIds);
        Assert.Null(summary.QueuePosition);

        // The assignee hears of it at once (its presence was looked up on assignment) and may send without joining.
        await gateway.WaitForAsync(agent.ParticipantKey, e => e is ConversationEvent c && c.ConversationId == conversationId && c.Summary.AssigneeId == agent.Id, "the assignment");
        (await conversation.SendAsync(agent.Caller, "a-1", "Hi, I'm here")).Ok();

        var snapshot = await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot();
        Assert.Equal([conversationId], snapshot.Agents.Single(a => a.AgentId == agent.Id).OpenConversations);

        // Confirmed: the dispatcher, which re-sends unconfirmed assignments every tick, sent it only once.
        await Task.Delay(ContactCentreFixture.TickPeriod * 6);
        Assert.Equal(1, fixture.Notifier.AssignmentsSent(conversationId));

        // The agent grain learnt the conversation (as if the agent had joined): a device the agent connects later,
        // through another gateway, receives the conversation's messages.
        await using var laptop = await TestGateway.StartAsync(Client);
        await agent.Grain.Connect(laptop.Id, "conn-laptop");
        (await conversation.SendAsync(visitor.Caller, "c-1", "thanks")).Ok();
        await laptop.WaitForAsync(agent.ParticipantKey, e => e is MessageEvent { Message.Text: "thanks" }, "the message on the new device");
    }

    [Fact]
    public async Task AConversationWaitingForAnAgentIsAssignedWhenOneComesOnline()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        await visitor.Grain.Connect(gateway.Id, "conn-visitor");
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        Assert.Equal(ConversationStatus.Queued, (await conversation.GetSummary())!.Status);

        await agent.Grain.Connect(gateway.Id, "conn-agent");
        var open = await Scenario.EventuallyAsync(() => conversation.GetSummary(), s => s!.Status == ConversationStatus.Open, "the assignment");
        Assert.Equal(agent.Id, open!.AssigneeId);
        Assert.Contains(agent.Id, open.AgentIds);
        Assert.Null(open.QueuePosition);
        await gateway.WaitForAsync(visitor.ParticipantKey, e => e is ConversationEvent { Summary.Status: ConversationStatus.Open } c && c.Summary.AssigneeId == agent.Id, "the visitor told of the assignment");
        await gateway.WaitForAsync(agent.ParticipantKey, e => e is ConversationEvent { Summary.Status: ConversationStatus.Open } c && c.ConversationId == conversationId, "the agent told of the assignment");

        // Applying the same assignment again changes nothing; the dispatcher stops once confirmed.
        var events = gateway.Observer.Received.Count;
        await conversation.Assigned(agent.Id);
        await Task.Delay(ContactCentreFixture.TickPeriod * 6);
        Assert.Equal(open.AgentIds, (await conversation.GetSummary())!.AgentIds);
        Assert.Equal(events, gateway.Observer.Received.Count);
        Assert.Equal(1, fixture.Notifier.AssignmentsSent(conversationId));
    }

    [Fact]
    public async Task ResolvingFreesTheSlotAndTheOldestWaitingConversationIsAssignedAndTheRestMoveUp()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 1);
        var conversations = new List<(TestVisitor Visitor, IConversationGrain Grain, string Id)>();
        for (var i = 0; i < 3; i++)
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant, "V" + i);
            await visitor.Grain.Connect(gateway.Id, "conn-v" + i);
            var (id, grain) = await Scenario.StartConversationAsync(Client, visitor);
            conversations.Add((visitor, grain, id));
        }

        Assert.Equal(agent.Id, (await conversations[0].Grain.GetSummary())!.AssigneeId);
        Assert.Equal(1, (await conversations[1].Grain.GetSummary())!.QueuePosition);
        Assert.Equal(2, (await conversations[2].Grain.GetSummary())!.QueuePosition);

        var resolved = (await conversations[0].Grain.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        Assert.Equal(ConversationStatus.Resolved, resolved.Status);
        Assert.NotNull(resolved.ResolvedAt);
        Assert.True(resolved.ResolutionSeconds >= 0);
        Assert.Equal(agent.Id, resolved.AssigneeId); // who resolved it stays on record

        var next = await Scenario.EventuallyAsync(() => conversations[1].Grain.GetSummary(), s => s!.Status == ConversationStatus.Open, "the next conversation assigned");
        Assert.Equal(agent.Id, next!.AssigneeId);
        var last = await Scenario.EventuallyAsync(() => conversations[2].Grain.GetSummary(), s => s!.QueuePosition == 1, "the last one moved up");
        Assert.Equal(ConversationStatus.Queued, last!.Status);
        var told = await gateway.WaitForAsync(conversations[2].Visitor.ParticipantKey, e => e is QueueEvent { Position: 1 }, "the queue position pushed");
        Assert.Equal([conversations[2].Visitor.ParticipantKey], told.Recipients);

        var load = (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.Single(a => a.AgentId == agent.Id);
        Assert.Equal([conversations[1].Id], load.OpenConversations);

        // A late assignment for the resolved conversation does not reopen it.
        await conversations[0].Grain.Assigned(agent.Id);
        await Task.Delay(200);
        Assert.Equal(ConversationStatus.Resolved, (await conversations[0].Grain.GetSummary())!.Status);
        Assert.Equal([conversations[1].Id], (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.Single(a => a.AgentId == agent.Id).OpenConversations);
    }

    [Fact]
    public async Task JoiningAWaitingConversationTakesItWithinCapacityAndAdminsMayExceedIt()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Client, tenant, capacity: 1);
        var other = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true, capacity: 1);
        var (firstId, first) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var (secondId, second) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var (thirdId, third) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));

        (await agent.Grain.Join(firstId)).Ok();
        var taken = (await first.GetSummary())!;
        Assert.Equal(ConversationStatus.Open, taken.Status);
        Assert.Equal(agent.Id, taken.AssigneeId);

        // Full: refused, and nothing changed.
        (await agent.Grain.Join(secondId)).AssertError(ErrorCodes.AtCapacity);
        var untouched = (await second.GetSummary())!;
        Assert.Equal(ConversationStatus.Queued, untouched.Status);
        Assert.Empty(untouched.AgentIds);

        // Another agent cannot take the assigned one; an admin over capacity can take a waiting one.
        (await other.Grain.Join(firstId)).AssertError(ErrorCodes.NotAllowed);
        (await admin.Grain.Join(thirdId)).Ok();
        (await admin.Grain.Join(secondId)).Ok();
        Assert.Equal(admin.Id, (await second.GetSummary())!.AssigneeId);
        Assert.Equal(admin.Id, (await third.GetSummary())!.AssigneeId);
        var load = (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.Single(a => a.AgentId == admin.Id);
        Assert.Equal(new[] { secondId, thirdId }.Order(StringComparer.Ordinal), load.OpenConversations);

        // Joining again is harmless.
        (await agent.Grain.Join(firstId)).Ok();
        Assert.Equal(agent.Id, (await first.GetSummary())!.AssigneeId);
    }
}
