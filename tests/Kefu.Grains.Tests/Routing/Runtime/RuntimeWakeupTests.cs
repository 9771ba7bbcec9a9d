using Kefu.Contracts.Events;
using Kefu.Grains.Routing;
using Kefu.Grains.Tests.Infrastructure;
using static Kefu.Grains.Tests.Routing.Runtime.Rules;

namespace Kefu.Grains.Tests.Routing.Runtime;

/// <summary>
/// Routers that do not poll still act at once: an inbound event (appended through the event log) and a visitor's
/// message (a conversation's commit) wake the tenant's router on the silo.
/// </summary>
public sealed class RuntimeWakeupTests(NoPollRoutingFixture fixture) : IClassFixture<NoPollRoutingFixture>
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task An_inbound_event_and_a_visitor_message_wake_the_router()
    {
        var tenant = Scenario.NewTenant();
        await SetAsync(Client, tenant,
        [
            Route("inbound", "order_status", new TagStep(0, 1, ["order"])),
            Route("message", EventTypes.MessageCreated, new TagStep(0, 1, ["message"])),
        ]);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        await InboundAsync(Client, tenant, "order_status", "{}", conversationId);
        Assert.Equal("inbound", Assert.Single(await WaitForExecutionsAsync(Client, tenant, 1, TimeSpan.FromSeconds(5))).RouteId);

        (await conversation.SendAsync(visitor.Caller, "c-1", "你好")).Ok();
        var executions = await WaitForExecutionsAsync(Client, tenant, 2, TimeSpan.FromSeconds(5));
        Assert.Contains(executions, e => e.RouteId == "message");
    }
}
