using Kefu.Contracts.Grains;
using static Kefu.Grains.Tests.Dispatch.DispatchKit;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>Concurrent arrivals never exceed capacity, nothing is lost and the queue is FIFO.</summary>
[Collection(DispatchClusterCollection.Name)]
public sealed class DispatcherCapacityTests(DispatchClusterFixture fixture)
{
    private const int Agents = 20;
    private const int Capacity = 5;
    private const int Conversations = 1000;

    [Fact]
    public async Task A_thousand_concurrent_arrivals_fill_twenty_agents_of_five_and_queue_the_rest_in_order()
    {
        var agentIds = Enumerable.Range(0, Agents).Select(i => $"agent{i:D2}").ToArray();
        var (tenant, dispatcher) = await NewDispatcherAsync(
            fixture.Client, Config([.. agentIds.Select(a => Agent(a, Capacity))]), agentIds);

        // Arrival order is shuffled; the queue order is by EnqueuedAt (c0000 oldest).
        var requests = Enumerable.Range(0, Conversations).Select(i => Request($"c{i:D4}", i)).ToArray();
        var shuffled = requests.OrderBy(_ => Random.Shared.Next()).ToArray();
        var tickets = await Task.WhenAll(shuffled.Select(r => dispatcher.Enqueue(r)));

        var assigned = tickets.Where(t => t.AssigneeId is not null).ToArray();
        Assert.Equal(Agents * Capacity, assigned.Length);
        Assert.All(tickets, t => Assert.True(t.AgentsOnline));
        Assert.All(assigned.GroupBy(t => t.AssigneeId), g => Assert.True(g.Count() <= Capacity, $"{g.Key} got {g.Count()}"));

        var snapshot = await dispatcher.GetSnapshot();
        Assert.All(snapshot.Agents, a => Assert.Equal(Capacity, a.OpenConversations.Length));
        var open = snapshot.Agents.SelectMany(a => a.OpenConversations).ToArray();
        Assert.Equal(Agents * Capacity, open.Distinct().Count());
        Assert.Equal(assigned.Select(t => t.ConversationId).Order(), open.Order());

        // Nothing lost: every conversation is either open or waiting, never both.
        var waiting = snapshot.WaitingIds();
        Assert.Equal(Conversations - Agents * Capacity, waiting.Length);
        Assert.Equal(requests.Select(r => r.ConversationId).Order(), open.Concat(waiting).Order());
        Assert.Equal(Enumerable.Range(1, waiting.Length), snapshot.Waiting.Select(w => w.Position).Order());
        Assert.Equal(waiting.Order(StringComparer.Ordinal), waiting); // FIFO: positions follow EnqueuedAt

        // Each waiting visitor was told its current place: by its ticket, or by a later position message.
        var told = tickets.Where(t => t.AssigneeId is null).ToDictionary(t => t.ConversationId, t => t.Position);
        foreach (var notice in fixture.Notifier.Positions(tenant))
        {
            told[notice.ConversationId] = notice.Position;
        }

        Assert.All(snapshot.Waiting, w => Assert.Equal(w.Position, told[w.ConversationId]));
        var assignments = fixture.Notifier.Assignments(tenant);
        Assert.Equal(
            assigned.Select(t => (t.ConversationId, t.AssigneeId)).Order(),
            assignments.Select(n => (n.ConversationId, n.AgentId)).Order());

        // Freed slots go to the oldest waiting conversations.
        var released = snapshot.Agents.Take(10).Select(a => a.OpenConversations[0]).ToArray();
        await Task.WhenAll(released.Select(dispatcher.Release));
        var after = await dispatcher.GetSnapshot();
        Assert.All(after.Agents, a => Assert.Equal(Capacity, a.OpenConversations.Length));
        Assert.All(waiting.Take(10), c => Assert.NotNull(after.AssigneeOf(c)));
        Assert.All(released, c => Assert.Null(after.AssigneeOf(c)));
        Assert.Equal(waiting.Skip(10), after.WaitingIds());
        Assert.Equal(Enumerable.Range(1, waiting.Length - 10), after.Waiting.Select(w => w.Position));
        Assert.Equal(1, fixture.Notifier.Positions(tenant).Last(n => n.ConversationId == waiting[10]).Position);
    }
}
