using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;
using static Kefu.Grains.Tests.Dispatch.DispatchKit;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>Heartbeats, not trust: statuses expire without reports; assignments are re-sent until confirmed.</summary>
[Collection(FastDispatchClusterCollection.Name)]
public sealed class DispatcherTimingTests(FastDispatchClusterFixture fixture)
{
    private static readonly TimeSpan PastExpiry = FastDispatchClusterFixture.StatusExpiry + TimeSpan.FromSeconds(0.7);

    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task An_agent_that_stops_reporting_counts_as_offline()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x")]), "x");
        Assert.True(await dispatcher.AnyAgentOnline("default"));

        await Task.Delay(PastExpiry);

        Assert.False(await dispatcher.AnyAgentOnline("default"));
        Assert.Equal(AgentStatus.Offline, (await dispatcher.GetSnapshot()).StatusOf("x"));
        var ticket = await dispatcher.Enqueue(Request("c1", 1));
        Assert.Null(ticket.AssigneeId);
        Assert.False(ticket.AgentsOnline);

        // The next report brings it back, and it takes the waiting conversation.
        await dispatcher.AgentStatusChanged("x", AgentStatus.Online);
        Assert.Equal(["c1"], (await dispatcher.GetSnapshot()).OpenOf("x"));
    }

    [Fact]
    public async Task Regular_reports_keep_an_agent_online()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x")]), "x");
        var until = DateTime.UtcNow + 2 * FastDispatchClusterFixture.StatusExpiry;
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(300);
            await dispatcher.AgentStatusChanged("x", AgentStatus.Online);
        }

        Assert.Equal("x", (await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);
    }

    [Fact]
    public async Task Assignments_are_re_sent_until_the_conversation_confirms()
    {
        var (tenant, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x")]), "x");
        Assert.Equal("x", (await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);
        int Sent() => fixture.Notifier.Assignments(tenant).Count(n => n.ConversationId == "c1" && n.AgentId == "x");

        await Scenario.EventuallyAsync(() => Task.FromResult(Sent()), n => n >= 3, "assignment re-sends");

        // A confirmation of some other assignment does not count.
        await dispatcher.ConfirmAssignment("c1", "someone-else");
        var sent = Sent();
        await Scenario.EventuallyAsync(() => Task.FromResult(Sent()), n => n > sent, "re-sends after a wrong confirmation");

        await dispatcher.ConfirmAssignment("c1", "x");
        await Task.Delay(300);
        sent = Sent();
        await Task.Delay(1000);
        Assert.Equal(sent, Sent());
    }

    [Fact]
    public async Task The_agent_grain_renews_its_status_with_every_heartbeat()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Grains, tenant);
        var dispatcher = Grains.GetGrain<IDispatcherGrain>(tenant);
        await dispatcher.Configure(Config([Agent(agent.Id)]));
        await agent.Grain.Connect("gw1", "conn1");
        Assert.Equal(AgentStatus.Online, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));

        var until = DateTime.UtcNow + 2 * FastDispatchClusterFixture.StatusExpiry;
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(300);
            await agent.Grain.Heartbeat("gw1", ["conn1"]);
        }

        Assert.Equal(AgentStatus.Online, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));

        // Silence (a gateway that stopped heartbeating): the dispatcher stops trusting the last word.
        await Task.Delay(PastExpiry);
        Assert.Equal(AgentStatus.Offline, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));
        Assert.Equal(Tenancy.Key(tenant, agent.Id), agent.Grain.GetPrimaryKeyString());
    }
}
