using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;
using static Kefu.Grains.Tests.Dispatch.DispatchKit;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>The assignment rules of docs/contact-centre.md, one at a time, on a dispatcher called directly.</summary>
[Collection(DispatchClusterCollection.Name)]
public sealed class DispatcherRuleTests(DispatchClusterFixture fixture)
{
    private IGrainFactory Grains => fixture.Client;

    [Fact]
    public async Task Least_busy_gives_the_agent_with_fewest_open_conversations()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("a", 10), Agent("b", 10), Agent("c", 10)]), "a", "b", "c");
        (await dispatcher.Claim(Request("x1", 0), "a", force: false)).Ok();
        (await dispatcher.Claim(Request("x2", 1), "a", force: false)).Ok();

        var assignees = new List<string?>();
        for (var i = 1; i <= 5; i++)
        {
            assignees.Add((await dispatcher.Enqueue(Request($"c{i}", 10 + i))).AssigneeId);
        }

        // b and c (0 open) first; then whoever has waited longest since their last assignment among the least busy.
        Assert.Equal(["b", "c", "b", "c", "a"], assignees);
    }

    [Fact]
    public async Task Least_busy_breaks_ties_by_longest_since_last_assignment_before_id()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("a", 10), Agent("b", 10)]), "a", "b");
        (await dispatcher.Claim(Request("x1", 0), "b", force: false)).Ok();
        (await dispatcher.Claim(Request("x2", 1), "a", force: false)).Ok();
        await dispatcher.Release("x1");
        await dispatcher.Release("x2");

        // Both hold nothing; b was last given one earlier than a.
        Assert.Equal("b", (await dispatcher.Enqueue(Request("c1", 10))).AssigneeId);
    }

    [Fact]
    public async Task Round_robin_takes_eligible_agents_in_turn_whatever_their_load()
    {
        var config = Config([Agent("a", 10), Agent("b", 10), Agent("c", 10)], [Inbox("rr", AssignmentPolicies.RoundRobin)]);
        var (_, dispatcher) = await NewDispatcherAsync(Grains, config, "a", "b", "c");
        (await dispatcher.Claim(Request("x1", 0, inbox: "rr"), "a", force: false)).Ok();
        (await dispatcher.Claim(Request("x2", 1, inbox: "rr"), "a", force: false)).Ok();

        var assignees = new List<string?>();
        for (var i = 1; i <= 5; i++)
        {
            assignees.Add((await dispatcher.Enqueue(Request($"c{i}", 10 + i, inbox: "rr"))).AssigneeId);
        }

        Assert.Equal(["a", "b", "c", "a", "b"], assignees);

        // An agent that is not eligible is skipped, and the turn continues after the last one served.
        await dispatcher.AgentStatusChanged("c", AgentStatus.Away);
        Assert.Equal("a", (await dispatcher.Enqueue(Request("c6", 20, inbox: "rr"))).AssigneeId);
    }

    [Fact]
    public async Task Away_and_offline_agents_get_no_conversations()
    {
        var config = Config([Agent("on", 1), Agent("away"), Agent("off"), Agent("silent")]);
        var (_, dispatcher) = await NewDispatcherAsync(Grains, config, "on", "away", "off");
        await dispatcher.AgentStatusChanged("away", AgentStatus.Away);
        await dispatcher.AgentStatusChanged("off", AgentStatus.Offline);

        Assert.Equal("on", (await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);
        var second = await dispatcher.Enqueue(Request("c2", 2));
        Assert.Null(second.AssigneeId);
        Assert.Equal(1, second.Position);

        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(AgentStatus.Away, snapshot.StatusOf("away"));
        Assert.Equal(AgentStatus.Offline, snapshot.StatusOf("off"));
        Assert.Equal(AgentStatus.Offline, snapshot.StatusOf("silent"));
        Assert.All(["away", "off", "silent"], a => Assert.Empty(snapshot.OpenOf(a)));
        Assert.True(await dispatcher.AnyAgentOnline("default"));

        // Going away keeps what one has, and no one online is left.
        await dispatcher.AgentStatusChanged("on", AgentStatus.Away);
        Assert.False(await dispatcher.AnyAgentOnline("default"));
        Assert.Equal(["c1"], (await dispatcher.GetSnapshot()).OpenOf("on"));
        Assert.False((await dispatcher.Enqueue(Request("c3", 3))).AgentsOnline);
    }

    [Fact]
    public async Task An_agent_coming_online_takes_the_oldest_waiting_conversations()
    {
        var (tenant, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x", 2)]));
        var tickets = new List<QueueTicket>();
        for (var i = 1; i <= 3; i++)
        {
            tickets.Add(await dispatcher.Enqueue(Request($"c{i}", i)));
        }

        Assert.Equal([1, 2, 3], tickets.Select(t => t.Position));
        Assert.All(tickets, t => Assert.False(t.AgentsOnline));

        await dispatcher.AgentStatusChanged("x", AgentStatus.Online);

        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["c1", "c2"], snapshot.OpenOf("x"));
        Assert.Equal(["c3"], snapshot.WaitingIds());
        Assert.Equal(1, snapshot.PositionOf("c3"));
        Assert.Equal([("c1", "x"), ("c2", "x")], fixture.Notifier.Assignments(tenant).Select(n => (n.ConversationId, n.AgentId!)).Order());
        Assert.Equal([("c3", 1)], fixture.Notifier.Positions(tenant).Select(n => (n.ConversationId, n.Position)));
    }

    [Fact]
    public async Task A_capacity_increase_drains_the_queue()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x", 1)]), "x");
        await dispatcher.Enqueue(Request("c1", 1));
        Assert.Null((await dispatcher.Enqueue(Request("c2", 2))).AssigneeId);

        await dispatcher.Configure(Config([Agent("x", 2)]));

        Assert.Equal(["c1", "c2"], (await dispatcher.GetSnapshot()).OpenOf("x"));
    }

    [Fact]
    public async Task Inbox_max_open_limits_its_open_conversations_only()
    {
        var config = Config([Agent("a"), Agent("b"), Agent("c")], [Inbox("small", maxOpen: 2)]);
        var (_, dispatcher) = await NewDispatcherAsync(Grains, config, "a", "b", "c");
        for (var i = 1; i <= 4; i++)
        {
            await dispatcher.Enqueue(Request($"s{i}", i, inbox: "small"));
        }

        Assert.NotNull((await dispatcher.Enqueue(Request("d1", 5))).AssigneeId);
        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["s3", "s4"], snapshot.WaitingIds());
        Assert.NotNull(snapshot.AssigneeOf("s1"));
        Assert.NotNull(snapshot.AssigneeOf("s2"));

        // A freed inbox slot lets the next one in.
        await dispatcher.Release("s1");
        snapshot = await dispatcher.GetSnapshot();
        Assert.NotNull(snapshot.AssigneeOf("s3"));
        Assert.Equal(["s4"], snapshot.WaitingIds());
    }

    [Fact]
    public async Task Team_queues_and_team_inboxes_are_served_by_members_only()
    {
        var config = Config(
            [Agent("s1", 1), Agent("b1", 1), Agent("any", 5)],
            [Inbox("sales", teams: "sales-team")],
            [Team("sales-team", "s1"), Team("billing", "b1")]);
        var (_, dispatcher) = await NewDispatcherAsync(Grains, config, "s1", "b1");

        // A billing transfer from the sales inbox goes to billing; sales conversations go to sales.
        Assert.Equal("b1", (await dispatcher.Enqueue(Request("t1", 1, inbox: "sales", team: "billing"))).AssigneeId);
        Assert.Equal("s1", (await dispatcher.Enqueue(Request("c1", 2, inbox: "sales"))).AssigneeId);

        // Both full now; "any" serves neither the team inbox nor the billing team.
        await dispatcher.AgentStatusChanged("any", AgentStatus.Online);
        Assert.Null((await dispatcher.Enqueue(Request("c2", 3, inbox: "sales"))).AssigneeId);
        Assert.Null((await dispatcher.Enqueue(Request("t2", 4, inbox: "sales", team: "billing"))).AssigneeId);
        Assert.Equal("any", (await dispatcher.Enqueue(Request("d1", 5, inbox: "default"))).AssigneeId);

        // Each queue counts its own positions.
        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(1, snapshot.PositionOf("c2"));
        Assert.Equal(1, snapshot.PositionOf("t2"));

        // A freed billing slot takes the billing queue's conversation, not the older sales one.
        await dispatcher.Release("t1");
        snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["t2"], snapshot.OpenOf("b1"));
        Assert.Equal("c2", Assert.Single(snapshot.Waiting).ConversationId);

        // The sales inbox is available only while a sales member is online.
        Assert.True(await dispatcher.AnyAgentOnline("sales"));
        await dispatcher.AgentStatusChanged("s1", AgentStatus.Away);
        Assert.False(await dispatcher.AnyAgentOnline("sales"));
        Assert.True(await dispatcher.AnyAgentOnline("default"));
    }

    [Fact]
    public async Task Higher_priorities_are_served_first_and_fifo_within_one()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x", 2)]));
        await dispatcher.Enqueue(Request("low", 1, priority: ConversationPriority.Low));
        await dispatcher.Enqueue(Request("normal1", 2));
        await dispatcher.Enqueue(Request("urgent", 3, priority: ConversationPriority.Urgent));
        await dispatcher.Enqueue(Request("high", 4, priority: ConversationPriority.High));
        await dispatcher.Enqueue(Request("normal2", 5));

        Assert.Equal(["urgent", "high", "normal1", "normal2", "low"], (await dispatcher.GetSnapshot()).WaitingIds());

        await dispatcher.AgentStatusChanged("x", AgentStatus.Online);
        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["high", "urgent"], snapshot.OpenOf("x").Order());
        Assert.Equal(["normal1", "normal2", "low"], snapshot.WaitingIds());
    }

    [Fact]
    public async Task A_raised_priority_moves_a_waiting_conversation_up_keeping_its_age()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x", 1)]));
        await dispatcher.Enqueue(Request("c1", 1));
        await dispatcher.Enqueue(Request("c2", 2));
        await dispatcher.Enqueue(Request("c3", 3));

        var raised = await dispatcher.Enqueue(Request("c3", 99, priority: ConversationPriority.High));

        Assert.Equal(1, raised.Position);
        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["c3", "c1", "c2"], snapshot.WaitingIds());
        Assert.Equal(T0.AddSeconds(3), snapshot.Waiting.Single(w => w.ConversationId == "c3").EnqueuedAt);
    }

    [Fact]
    public async Task Claim_is_refused_at_capacity_unless_forced_and_moving_frees_the_old_slot()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("a", 1), Agent("b", 5)]), "a");
        await dispatcher.AgentStatusChanged("b", AgentStatus.Away);
        Assert.Equal("a", (await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);
        Assert.Null((await dispatcher.Enqueue(Request("c2", 2))).AssigneeId);

        (await dispatcher.Claim(Request("c2", 2), "a", force: false)).AssertError(ErrorCodes.AtCapacity);
        Assert.Equal(["c2"], (await dispatcher.GetSnapshot()).WaitingIds());

        // b (away) takes c1 from a: a's freed slot takes the waiting c2.
        Assert.Equal("b", (await dispatcher.Claim(Request("c1", 1), "b", force: false)).Ok().AssigneeId);
        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["c1"], snapshot.OpenOf("b"));
        Assert.Equal(["c2"], snapshot.OpenOf("a"));
        Assert.Empty(snapshot.Waiting);

        // An admin may put a over capacity.
        (await dispatcher.Claim(Request("c3", 3), "a", force: false)).AssertError(ErrorCodes.AtCapacity);
        Assert.Equal("a", (await dispatcher.Claim(Request("c3", 3), "a", force: true)).Ok().AssigneeId);
        Assert.Equal(["c2", "c3"], (await dispatcher.GetSnapshot()).OpenOf("a").Order());
        (await dispatcher.Claim(Request("c4", 4), "nobody", force: true)).AssertError(ErrorCodes.NotFound);
    }

    [Fact]
    public async Task Enqueue_is_idempotent_and_prefers_the_given_agent_when_eligible()
    {
        var (tenant, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("p", 1), Agent("q", 1)]), "p", "q");

        // Least busy would pick p (tie, id); the preferred q gets it.
        var first = await dispatcher.Enqueue(Request("c1", 1, preferred: "q"));
        Assert.Equal("q", first.AssigneeId);
        Assert.Equal(first, await dispatcher.Enqueue(Request("c1", 1, preferred: "q")));
        Assert.Equal(first, await dispatcher.Enqueue(Request("c1", 1)));

        // q is full: the preference does not hold, the policy decides.
        Assert.Equal("p", (await dispatcher.Enqueue(Request("c2", 2, preferred: "q"))).AssigneeId);

        var waiting = await dispatcher.Enqueue(Request("c3", 3));
        Assert.Equal(1, waiting.Position);
        Assert.Equal(waiting, await dispatcher.Enqueue(Request("c3", 3)));

        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["c1"], snapshot.OpenOf("q"));
        Assert.Equal(["c2"], snapshot.OpenOf("p"));
        Assert.Equal(["c3"], snapshot.WaitingIds());
        Assert.Single(fixture.Notifier.Assignments(tenant), n => n.ConversationId == "c1");
    }

    [Fact]
    public async Task Release_leaves_the_queue_and_tells_the_others_their_new_place()
    {
        var (tenant, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x", 1)]));
        for (var i = 1; i <= 3; i++)
        {
            await dispatcher.Enqueue(Request($"c{i}", i));
        }

        await dispatcher.Release("c1");
        await dispatcher.Release("unknown");

        Assert.Equal(["c2", "c3"], (await dispatcher.GetSnapshot()).WaitingIds());
        Assert.Equal([("c2", 1), ("c3", 2)], fixture.Notifier.Positions(tenant).Select(n => (n.ConversationId, n.Position)));
    }

    [Fact]
    public async Task Manual_inboxes_wait_for_an_agent_to_take_the_conversation()
    {
        var (_, dispatcher) = await NewDispatcherAsync(Grains, Config([Agent("x")], [Inbox("bench", AssignmentPolicies.Manual)]), "x");

        Assert.Null((await dispatcher.Enqueue(Request("c1", 1, inbox: "bench"))).AssigneeId);
        await dispatcher.AgentStatusChanged("x", AgentStatus.Online);
        Assert.Equal(["c1"], (await dispatcher.GetSnapshot()).WaitingIds());
        Assert.Equal("x", (await dispatcher.Claim(Request("c1", 1, inbox: "bench"), "x", force: false)).Ok().AssigneeId);
    }

    [Fact]
    public async Task Persisted_state_survives_deactivation()
    {
        var config = Config([Agent("a", 2), Agent("b", 1)], [Inbox("rr", AssignmentPolicies.RoundRobin, maxOpen: 10)]);
        var (_, dispatcher) = await NewDispatcherAsync(Grains, config, "a", "b");
        for (var i = 1; i <= 5; i++)
        {
            await dispatcher.Enqueue(Request($"c{i}", i, inbox: "rr"));
        }

        var before = await dispatcher.GetSnapshot();
        Assert.Equal(["c4", "c5"], before.WaitingIds());

        await fixture.Cluster.DeactivateAsync(dispatcher);

        // Statuses are only as good as the last heartbeat: a new activation knows none until agents report.
        var after = await dispatcher.GetSnapshot();
        Assert.All(after.Agents, a => Assert.Equal(AgentStatus.Offline, a.Status));
        Assert.Equal(before.Waiting, after.Waiting);
        Assert.Equal(
            before.Agents.Select(a => (a.AgentId, a.Capacity, string.Join(",", a.OpenConversations))),
            after.Agents.Select(a => (a.AgentId, a.Capacity, string.Join(",", a.OpenConversations))));

        // The configuration came back too: a released slot of b is refilled by the round-robin inbox's queue.
        await dispatcher.AgentStatusChanged("a", AgentStatus.Online);
        await dispatcher.AgentStatusChanged("b", AgentStatus.Online);
        await dispatcher.Release(before.OpenOf("b")[0]);
        Assert.Equal(["c4"], (await dispatcher.GetSnapshot()).OpenOf("b"));
    }
}
