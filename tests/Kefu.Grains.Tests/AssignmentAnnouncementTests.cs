using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

/// <summary>
/// Agents who were shown a conversation as unassigned hear once that it got an assignee, even when they may no longer
/// see it: without that, their consoles kept showing it "queued · unassigned" (issue #11, item 4).
/// </summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class AssignmentAnnouncementTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task An_agent_shown_a_queued_conversation_hears_when_another_agent_gets_it()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var full = await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 1, gatewayId: gateway.Id);
        var (_, first) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        await Scenario.EventuallyAsync(first.GetSummary, s => s!.AssigneeId == full.Id, "the first conversation assigned to the full agent");

        // The full agent has no slot: the second conversation waits, and the agent is told about it (unassigned).
        var (secondId, second) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        await gateway.WaitForAsync(full.ParticipantKey,
            e => e is ConversationEvent c && c.Summary.ConversationId == secondId && c.Summary.AssigneeId is null, "the queued conversation announced");

        var other = await Scenario.NewOnlineAgentAsync(Client, tenant);
        await Scenario.EventuallyAsync(second.GetSummary, s => s!.AssigneeId == other.Id, "the second conversation assigned to the other agent");
        var taken = await gateway.WaitForAsync(full.ParticipantKey,
            e => e is ConversationEvent c && c.Summary.ConversationId == secondId && c.Summary.AssigneeId == other.Id, "its assignment announced");
        Assert.Equal(ConversationStatus.Open, ((ConversationEvent)taken.Event).Summary.Status);
    }
}
