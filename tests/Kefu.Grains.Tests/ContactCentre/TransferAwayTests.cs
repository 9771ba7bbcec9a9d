using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ContactCentre;

/// <summary>Issue #12, item 6: handing a conversation on is letting go; visitors never see the priority agents set.</summary>
[Collection(ContactCentreCollection.Name)]
public sealed class TransferAwayTests(ContactCentreFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task AnAgentWhoTransferredAConversationAwayCanNeitherWriteInItNorTakeItBackUnlessAnAdmin()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var a = await Scenario.NewOnlineAgentAsync(Client, tenant, gatewayId: gateway.Id);
        var b = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        await b.Grain.Connect("gw-nobody-listens", "conn-b");
        Assert.Equal(a.Id, (await conversation.GetSummary())!.AssigneeId);
        (await conversation.SendAsync(a.Caller, "a-1", "Let me pass you to billing")).Ok();

        var moved = (await conversation.Transfer(a.Caller, b.Id, null)).Ok();
        Assert.Equal(b.Id, moved.AssigneeId);
        Assert.DoesNotContain(a.Id, moved.AgentIds);

        // Its console learns the change although the conversation is no longer its own.
        await gateway.WaitForAsync(a.ParticipantKey, e => e is ConversationEvent c && c.ConversationId == conversationId && c.Summary.AssigneeId == b.Id, "the former agent's update");

        (await conversation.SendAsync(a.Caller, "a-2", "still here")).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Transfer(a.Caller, a.Id, null)).AssertError(ErrorCodes.NotAllowed);
        (await a.Grain.Join(conversationId)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Typing(a.Caller, true)).AssertError(ErrorCodes.NotAllowed);

        // The new assignee works in it; an admin may hand it back, and then the agent writes again.
        (await conversation.SendAsync(b.Caller, "b-1", "Billing here")).Ok();
        Assert.Equal(a.Id, (await conversation.Transfer(admin.Caller, a.Id, null)).Ok().AssigneeId);
        (await conversation.SendAsync(a.Caller, "a-3", "back with me")).Ok();

        // An admin who transfers keeps access.
        (await admin.Grain.Join(conversationId)).Ok();
        (await conversation.Transfer(admin.Caller, b.Id, null)).Ok();
        (await conversation.SendAsync(admin.Caller, "adm-1", "admin note to visitor")).Ok();
    }

    [Fact]
    public async Task TheVisitorNeverSeesThePriorityAgentsSet()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, gatewayId: gateway.Id);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        await visitor.Grain.Connect(gateway.Id, "conn-visitor");
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        Assert.Equal(ConversationPriority.Urgent, (await conversation.Label(agent.Caller, ["vip"], ConversationPriority.Urgent)).Ok().Priority);
        await gateway.WaitForAsync(agent.ParticipantKey, e => e is ConversationEvent c && c.ConversationId == conversationId && c.Summary.Priority == ConversationPriority.Urgent, "the agent's update");
        var visitorUpdates = gateway.ReceivedBy(visitor.ParticipantKey).OfType<ConversationEvent>().ToArray();
        Assert.NotEmpty(visitorUpdates);
        Assert.All(visitorUpdates, e => Assert.Equal(ConversationPriority.Normal, e.Summary.Priority));
    }
}
