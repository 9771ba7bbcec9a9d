using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

[Collection(DefaultClusterCollection.Name)]
public sealed class JoinAndDirectoryTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task FirstAgentToJoinAWaitingConversationIsAssignedAndGetsTheLastSeq()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var first = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        // Nobody online: it waits in the queue, and the visitor's first message is followed by the away message.
        var waiting = (await conversation.GetSummary())!;
        Assert.Null(waiting.AssigneeId);
        Assert.Equal(ConversationStatus.Queued, waiting.Status);
        for (var i = 1; i <= 3; i++)
        {
            (await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok();
        }

        var joined = (await first.Grain.Join(conversationId)).Ok();
        Assert.Equal(conversationId, joined.ConversationId);
        Assert.Equal(4, joined.LastSeq);

        var summary = (await conversation.GetSummary())!;
        Assert.Equal(first.Id, summary.AssigneeId);
        Assert.Equal(4, summary.LastSeq);
        Assert.Equal([first.Id], summary.AgentIds);
        Assert.Equal(visitor.Id, summary.VisitorId);
        Assert.Equal(ConversationStatus.Open, summary.Status);

        (await conversation.SendAsync(first.Caller, "a-1", "hello")).Ok();
        var adminJoin = (await admin.Grain.Join(conversationId)).Ok();
        Assert.Equal(5, adminJoin.LastSeq);
        Assert.Equal(first.Id, (await conversation.GetSummary())!.AssigneeId);

        // Joining again is harmless and keeps the assignment.
        Assert.Equal(5, (await first.Grain.Join(conversationId)).Ok().LastSeq);
        Assert.Equal(first.Id, (await conversation.GetSummary())!.AssigneeId);
    }

    [Fact]
    public async Task DirectoryHidesOtherAgentsConversationsFromNonAdmins()
    {
        var tenant = Scenario.NewTenant();
        var directory = Client.GetGrain<IConversationDirectoryGrain>(tenant);
        var assigned = await Scenario.NewVisitorAsync(Client, tenant);
        var waiting = await Scenario.NewVisitorAsync(Client, tenant);
        var owner = await Scenario.NewAgentAsync(Client, tenant);
        var other = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var (assignedId, _) = await Scenario.StartConversationAsync(Client, assigned);
        var (waitingId, _) = await Scenario.StartConversationAsync(Client, waiting);

        (await owner.Grain.Join(assignedId)).Ok();

        // The directory hears about changes one-way: wait until it knows the assignment.
        var adminView = await Scenario.EventuallyAsync(
            () => directory.List(new ConversationQuery(admin.Id, true, null, 100)),
            list => list.Any(c => c.ConversationId == assignedId && c.AssigneeId == owner.Id) && list.Any(c => c.ConversationId == waitingId),
            "the directory to list both conversations with the assignment");
        var both = new[] { assignedId, waitingId }.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(both, adminView.Select(c => c.ConversationId).Order(StringComparer.Ordinal));

        var ownerView = await directory.List(new ConversationQuery(owner.Id, false, null, 100));
        Assert.Equal(both, ownerView.Select(c => c.ConversationId).Order(StringComparer.Ordinal));

        var otherView = await directory.List(new ConversationQuery(other.Id, false, null, 100));
        Assert.Equal([waitingId], otherView.Select(c => c.ConversationId));

        var openOnly = await directory.List(new ConversationQuery(admin.Id, true, ConversationStatus.Open, 1));
        Assert.Equal([assignedId], openOnly.Select(c => c.ConversationId));
        var queuedOnly = await directory.List(new ConversationQuery(admin.Id, true, ConversationStatus.Queued, 100));
        Assert.Equal([waitingId], queuedOnly.Select(c => c.ConversationId));
        Assert.Equal([waitingId], (await directory.List(new ConversationQuery(admin.Id, true, null, 100, UnassignedOnly: true))).Select(c => c.ConversationId));
        Assert.Equal([assignedId], (await directory.List(new ConversationQuery(admin.Id, true, null, 100, AssigneeId: owner.Id))).Select(c => c.ConversationId));
        Assert.Equal(2, (await directory.List(new ConversationQuery(admin.Id, true, null, 100, Inbox: "default"))).Length);
        Assert.Empty(await directory.List(new ConversationQuery(admin.Id, true, null, 100, Inbox: "elsewhere")));
        Assert.Empty(await directory.List(new ConversationQuery(admin.Id, true, ConversationStatus.Resolved, 100)));

        // Agents registered through the agent grain are in the directory too.
        var agents = await Client.GetGrain<ITenantGrain>(tenant).ListAgents();
        Assert.Equal(new[] { owner.Id, other.Id, admin.Id }.Order(StringComparer.Ordinal), agents.Select(a => a.AgentId));
    }
}
