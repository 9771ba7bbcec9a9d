using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;
using static Kefu.Grains.Tests.Dispatch.DispatchKit;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>An agent's chosen status, what the connections make of it, and what the dispatcher hears.</summary>
[Collection(DispatchClusterCollection.Name)]
public sealed class AgentStatusTests(DispatchClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    private async Task<(TestAgent Agent, IDispatcherGrain Dispatcher)> AgentWithDispatcherAsync(int capacity = 5)
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Grains, tenant);
        var dispatcher = Grains.GetGrain<IDispatcherGrain>(tenant);
        await dispatcher.Configure(Config([Agent(agent.Id, capacity)]));
        return (agent, dispatcher);
    }

    [Fact]
    public async Task Offline_cannot_be_chosen()
    {
        var (agent, _) = await AgentWithDispatcherAsync();
        (await agent.Grain.SetStatus(AgentStatus.Offline)).AssertError(ErrorCodes.InvalidField);
        (await agent.Grain.SetStatus((AgentStatus)42)).AssertError(ErrorCodes.InvalidField);
    }

    [Fact]
    public async Task Status_is_offline_without_a_connection_and_the_chosen_one_with_one()
    {
        var (agent, dispatcher) = await AgentWithDispatcherAsync();
        Assert.Equal(AgentStatus.Offline, await agent.Grain.GetStatus());

        await agent.Grain.Connect("gw1", "conn1");
        Assert.Equal(AgentStatus.Online, await agent.Grain.GetStatus());
        Assert.Equal(AgentStatus.Online, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));

        Assert.Equal(AgentStatus.Away, (await agent.Grain.SetStatus(AgentStatus.Away)).Ok());
        Assert.Equal(AgentStatus.Away, await agent.Grain.GetStatus());
        Assert.Equal(AgentStatus.Away, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));

        // A second device does not change anything; closing both does.
        await agent.Grain.Connect("gw2", "conn2");
        await agent.Grain.Disconnect("gw1", "conn1");
        Assert.Equal(AgentStatus.Away, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));
        await agent.Grain.Disconnect("gw2", "conn2");
        Assert.Equal(AgentStatus.Offline, await agent.Grain.GetStatus());
        Assert.Equal(AgentStatus.Offline, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));

        // The choice is remembered across activations.
        await fixture.Cluster.DeactivateAsync(agent.Grain);
        await agent.Grain.Connect("gw1", "conn3");
        Assert.Equal(AgentStatus.Away, await agent.Grain.GetStatus());
        Assert.Equal(AgentStatus.Away, (await dispatcher.GetSnapshot()).StatusOf(agent.Id));
    }

    [Fact]
    public async Task An_agent_connecting_takes_the_waiting_conversation_and_going_away_stops_new_ones()
    {
        var (agent, dispatcher) = await AgentWithDispatcherAsync(capacity: 5);
        Assert.Null((await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);

        await agent.Grain.Connect("gw1", "conn1");
        Assert.Equal(["c1"], (await dispatcher.GetSnapshot()).OpenOf(agent.Id));

        await agent.Grain.SetStatus(AgentStatus.Away);
        Assert.Null((await dispatcher.Enqueue(Request("c2", 2))).AssigneeId);
        await agent.Grain.SetStatus(AgentStatus.Online);
        Assert.Equal(["c1", "c2"], (await dispatcher.GetSnapshot()).OpenOf(agent.Id).Order());
    }

    [Fact]
    public async Task Update_changes_the_profile_and_re_registers_with_the_tenant()
    {
        var (agent, _) = await AgentWithDispatcherAsync();
        (await agent.Grain.Update(new AgentUpdate(null, null, 0, null))).AssertError(ErrorCodes.InvalidField);
        (await agent.Grain.Update(new AgentUpdate(null, null, 1001, null))).AssertError(ErrorCodes.InvalidField);
        (await agent.Grain.Update(new AgentUpdate(null, "boss", null, null))).AssertError(ErrorCodes.InvalidField);
        (await agent.Grain.Update(new AgentUpdate("  ", null, null, null))).AssertError(ErrorCodes.InvalidField);

        var updated = (await agent.Grain.Update(new AgentUpdate(" Ann ", AgentRoles.Admin, 7, "new-hash"))).Ok();

        Assert.Equal(("Ann", AgentRoles.Admin, 7), (updated.DisplayName, updated.Role, updated.Capacity));
        Assert.Equal(updated, await agent.Grain.GetProfile());
        Assert.Equal("new-hash", (await agent.Grain.GetCredentials())!.PasswordHash);
        var listed = (await Grains.GetGrain<ITenantGrain>(agent.Tenant).ListAgents()).Single(a => a.AgentId == agent.Id);
        Assert.Equal(updated, listed);

        // Nulls leave things as they are.
        Assert.Equal(updated, (await agent.Grain.Update(new AgentUpdate(null, null, null, null))).Ok());
        Assert.Equal("new-hash", (await agent.Grain.GetCredentials())!.PasswordHash);
    }
}
