using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

[Collection(DefaultClusterCollection.Name)]
public sealed class AuthorizationTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task AnotherVisitorCannotUseTheConversation()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant); // staffed: no away message in the history
        var owner = await Scenario.NewVisitorAsync(Client, tenant);
        var intruder = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, owner);
        (await conversation.SendAsync(owner.Caller, "c-1", "private")).Ok();

        (await conversation.SendAsync(intruder.Caller, "c-x", "let me in")).AssertError(ErrorCodes.NotAllowed);
        (await conversation.GetMessages(intruder.Caller, 0, 500)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Typing(intruder.Caller, true)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.MarkRead(intruder.Caller, 1)).AssertError(ErrorCodes.NotAllowed);

        // The owner still sees exactly its own message.
        var page = (await conversation.GetMessages(owner.Caller, 0, 500)).Ok();
        Assert.Equal(["private"], page.Messages.Select(m => m.Text));
    }

    [Fact]
    public async Task AVisitorFromAnotherTenantGetsNotFound()
    {
        var owner = await Scenario.NewVisitorAsync(Client, Scenario.NewTenant());
        var (_, conversation) = await Scenario.StartConversationAsync(Client, owner);
        var stranger = owner.Caller with { Tenant = Scenario.NewTenant() };

        (await conversation.SendAsync(stranger, "c-1", "hi")).AssertError(ErrorCodes.NotFound);
        (await conversation.GetMessages(stranger, 0, 10)).AssertError(ErrorCodes.NotFound);
    }

    [Fact]
    public async Task AnAgentMustJoinBeforeSendingTypingOrMarkingRead()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.SendAsync(agent.Caller, "c-1", "hello")).AssertError(ErrorCodes.NotAllowed);
        (await conversation.SendAsync(admin.Caller, "c-1", "hello")).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Typing(agent.Caller, true)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.MarkRead(agent.Caller, 0)).AssertError(ErrorCodes.NotAllowed);
        Assert.Equal(0, (await conversation.GetSummary())!.LastSeq);

        // Joining the waiting conversation takes it.
        (await agent.Grain.Join(conversationId)).Ok();
        Assert.Equal(agent.Id, (await conversation.GetSummary())!.AssigneeId);
        Assert.Equal(1, (await conversation.SendAsync(agent.Caller, "c-1", "hello")).Ok().Seq);
    }

    [Fact]
    public async Task OnlyAdminsJoinAConversationAssignedToAnotherAgent()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var first = await Scenario.NewAgentAsync(Client, tenant);
        var second = await Scenario.NewAgentAsync(Client, tenant);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        Assert.Equal(ConversationStatus.Queued, (await conversation.GetSummary())!.Status); // nobody online

        // The first to join takes it (a claim within capacity); later joins never change the assignee.
        (await first.Grain.Join(conversationId)).Ok();

        (await second.Grain.Join(conversationId)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Join(second.Caller, await second.Grain.GetPresence())).AssertError(ErrorCodes.NotAllowed);
        (await conversation.GetMessages(second.Caller, 0, 10)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.SendAsync(second.Caller, "c-1", "mine now")).AssertError(ErrorCodes.NotAllowed);

        (await admin.Grain.Join(conversationId)).Ok();
        (await conversation.SendAsync(admin.Caller, "c-1", "admin here")).Ok();

        var summary = (await conversation.GetSummary())!;
        Assert.Equal(first.Id, summary.AssigneeId);
        Assert.Equal(new[] { admin.Id, first.Id }.Order(StringComparer.Ordinal), summary.AgentIds.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(second.Id, summary.AgentIds);
    }

    [Fact]
    public async Task VisitorsCannotJoinAsAgents()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.Join(visitor.Caller, await visitor.Grain.GetPresence())).AssertError(ErrorCodes.NotAllowed);
        Assert.Null((await conversation.GetSummary())!.AssigneeId);
    }

    [Fact]
    public async Task UnknownConversationIsNotFound()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var unknownId = Ulid.NewUlid().ToString();
        var conversation = Client.GetGrain<IConversationGrain>(Tenancy.Key(tenant, unknownId));

        (await conversation.SendAsync(visitor.Caller, "c-1", "hello?")).AssertError(ErrorCodes.NotFound);
        (await conversation.GetMessages(visitor.Caller, 0, 10)).AssertError(ErrorCodes.NotFound);
        (await conversation.Typing(visitor.Caller, true)).AssertError(ErrorCodes.NotFound);
        (await conversation.MarkRead(visitor.Caller, 1)).AssertError(ErrorCodes.NotFound);
        (await agent.Grain.Join(unknownId)).AssertError(ErrorCodes.NotFound);
        Assert.Null(await conversation.GetSummary());
    }
}
