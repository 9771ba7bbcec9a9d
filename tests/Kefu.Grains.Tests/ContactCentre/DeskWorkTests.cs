using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ContactCentre;

/// <summary>What agents do with a conversation besides chatting: transfer, labels, notes; and what the visitor may do: rate.</summary>
[Collection(ContactCentreCollection.Name)]
public sealed class DeskWorkTests(ContactCentreFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task TransferToAFullAgentIsRefusedUnlessAnAdminForcesIt()
    {
        var tenant = Scenario.NewTenant();
        var a = await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 1);
        var b = await Scenario.NewOnlineAgentAsync(Client, tenant, capacity: 1);
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var outsider = await Scenario.NewAgentAsync(Client, tenant);
        var (firstId, first) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var (secondId, second) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var holder = (await first.GetSummary())!.AssigneeId == a.Id ? a : b;
        var other = holder == a ? b : a;
        Assert.Equal(other.Id, (await second.GetSummary())!.AssigneeId);

        (await first.Transfer(holder.Caller, other.Id, null)).AssertError(ErrorCodes.AtCapacity);
        (await first.Transfer(holder.Caller, other.Id, "some-team")).AssertError(ErrorCodes.InvalidField);
        (await first.Transfer(holder.Caller, null, null)).AssertError(ErrorCodes.InvalidField);
        (await first.Transfer(holder.Caller, "nobody-here", null)).AssertError(ErrorCodes.NotFound);
        (await first.Transfer(outsider.Caller, other.Id, null)).AssertError(ErrorCodes.NotAllowed);
        Assert.Equal(holder.Id, (await first.GetSummary())!.AssigneeId);

        var forced = (await first.Transfer(admin.Caller, other.Id, null)).Ok();
        Assert.Equal(ConversationStatus.Open, forced.Status);
        Assert.Equal(other.Id, forced.AssigneeId);
        Assert.Contains(holder.Id, forced.AgentIds); // the previous assignee keeps access

        var loads = (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Agents.ToDictionary(l => l.AgentId);
        Assert.Empty(loads[holder.Id].OpenConversations);
        Assert.Equal(new[] { firstId, secondId }.Order(StringComparer.Ordinal), loads[other.Id].OpenConversations);

        // Naming oneself takes the conversation (capacity-checked like any other assignment).
        var (_, third) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(holder.Id, (await third.GetSummary())!.AssigneeId);
        (await third.Transfer(outsider.Caller, outsider.Id, null)).AssertError(ErrorCodes.NotAllowed); // assigned to someone else
    }

    [Fact]
    public async Task TransferToATeamRequeuesItWhereOnlyThatTeamsAgentsGetIt()
    {
        var tenant = Scenario.NewTenant();
        var first = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var specialist = await Scenario.NewAgentAsync(Client, tenant);
        var tenantGrain = Client.GetGrain<ITenantGrain>(tenant);
        (await tenantGrain.PutTeam(new TeamConfig("second-line", "Second line", [specialist.Id]))).Ok();
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(first.Id, (await conversation.GetSummary())!.AssigneeId);

        (await conversation.Transfer(first.Caller, null, "no-such-team")).AssertError(ErrorCodes.NotFound);
        var moved = (await conversation.Transfer(first.Caller, null, "second-line")).Ok();
        Assert.Equal("second-line", moved.Team);
        Assert.Equal(ConversationStatus.Queued, moved.Status);
        Assert.Null(moved.AssigneeId);
        Assert.Equal(1, moved.QueuePosition);

        // The first agent is online with free slots but not in the team: it stays waiting.
        var snapshot = await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot();
        Assert.Empty(snapshot.Agents.Single(l => l.AgentId == first.Id).OpenConversations);
        Assert.Equal("second-line", snapshot.Waiting.Single(w => w.ConversationId == conversationId).Team);
        await Task.Delay(300);
        Assert.Equal(ConversationStatus.Queued, (await conversation.GetSummary())!.Status);

        await specialist.Grain.Connect("gw-nobody-listens", "conn-specialist");
        var assigned = await Scenario.EventuallyAsync(() => conversation.GetSummary(), s => s!.Status == ConversationStatus.Open, "the team's agent assigned");
        Assert.Equal(specialist.Id, assigned!.AssigneeId);
        Assert.Equal("second-line", assigned.Team);

        // The directory lists it under the team.
        var listed = await Scenario.EventuallyAsync(
            () => Client.GetGrain<IConversationDirectoryGrain>(tenant).List(new ConversationQuery(first.Id, true, null, 100, Team: "second-line")),
            l => l.Any(c => c.ConversationId == conversationId && c.AssigneeId == specialist.Id),
            "the directory row");
        Assert.Single(listed);
    }

    [Fact]
    public async Task TagsAndPriorityAreValidatedNormalisedAndHiddenFromTheVisitor()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, gatewayId: gateway.Id);
        var outsider = await Scenario.NewAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        await visitor.Grain.Connect(gateway.Id, "conn-visitor");
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        var labelled = (await conversation.Label(agent.Caller, [" Billing ", "VIP", "billing"], ConversationPriority.Urgent)).Ok();
        Assert.Equal(["billing", "vip"], labelled.Tags!);
        Assert.Equal(ConversationPriority.Urgent, labelled.Priority);

        (await conversation.Label(agent.Caller, null, "asap")).AssertError(ErrorCodes.InvalidField);
        (await conversation.Label(agent.Caller, [.. Enumerable.Range(0, 21).Select(i => "t" + i)], null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.Label(agent.Caller, [new string('x', 33)], null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.Label(agent.Caller, ["ok", "  "], null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.Label(agent.Caller, null, null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.Label(visitor.Caller, ["mine"], null)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Label(outsider.Caller, ["theirs"], null)).AssertError(ErrorCodes.NotAllowed);
        Assert.Equal(20, (await conversation.Label(agent.Caller, [.. Enumerable.Range(0, 20).Select(i => "t" + i)], null)).Ok().Tags!.Length);
        var kept = (await conversation.Label(agent.Caller, ["billing"], null)).Ok();
        Assert.Equal(["billing"], kept.Tags!);
        Assert.Equal(ConversationPriority.Urgent, kept.Priority); // null leaves it as it was

        // The agent's copy of the change carries the tags, the visitor's does not.
        var forAgent = await gateway.WaitForAsync(agent.ParticipantKey, e => e is ConversationEvent c && c.ConversationId == conversationId && c.Summary.Tags is ["billing"], "the agent's update");
        Assert.DoesNotContain(visitor.ParticipantKey, forAgent.Recipients);
        var visitorUpdates = gateway.ReceivedBy(visitor.ParticipantKey).OfType<ConversationEvent>().ToArray();
        Assert.NotEmpty(visitorUpdates);
        Assert.All(visitorUpdates, e => Assert.Empty(e.Summary.Tags ?? []));
        Assert.All(visitorUpdates, e => Assert.Empty(e.Summary.AgentIds));
    }

    [Fact]
    public async Task AHigherPriorityMovesAWaitingConversationAheadKeepingFifoWithinPriorities()
    {
        var tenant = Scenario.NewTenant();
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var (firstId, first) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var (secondId, second) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        var (_, third) = await Scenario.StartConversationAsync(Client, await Scenario.NewVisitorAsync(Client, tenant));
        Assert.Equal(3, (await third.GetSummary())!.QueuePosition);

        var raised = (await third.Label(admin.Caller, null, ConversationPriority.High)).Ok();
        Assert.Equal(1, raised.QueuePosition);
        Assert.Equal(ConversationStatus.Queued, raised.Status);
        await Scenario.EventuallyAsync(() => first.GetSummary(), s => s!.QueuePosition == 2, "the first moved down");
        await Scenario.EventuallyAsync(() => second.GetSummary(), s => s!.QueuePosition == 3, "the second moved down");

        // Back to normal: behind the two older normal ones again.
        Assert.Equal(3, (await third.Label(admin.Caller, null, ConversationPriority.Normal)).Ok().QueuePosition);
        var waiting = (await Client.GetGrain<IDispatcherGrain>(tenant).GetSnapshot()).Waiting.OrderBy(w => w.Position).Select(w => w.ConversationId).ToArray();
        Assert.Equal(firstId, waiting[0]);
        Assert.Equal(secondId, waiting[1]);
    }

    [Fact]
    public async Task NotesReachTheConversationsAgentsAndNeverTheVisitor()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, gatewayId: gateway.Id);
        var colleague = await Scenario.NewAgentAsync(Client, tenant, admin: true); // admins may join an assigned conversation
        var outsider = await Scenario.NewAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        await visitor.Grain.Connect(gateway.Id, "conn-visitor");
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        Assert.Equal(agent.Id, (await conversation.GetSummary())!.AssigneeId);
        await colleague.Grain.Connect(gateway.Id, "conn-colleague");
        (await colleague.Grain.Join(conversationId)).Ok();

        var note = (await conversation.AddNote(agent.Caller, "VIP, refund approved")).Ok();
        Assert.Equal(agent.Id, note.Author.Id);
        Assert.Equal(conversationId, note.ConversationId);
        var pushed = await gateway.WaitForAsync(colleague.ParticipantKey, e => e is NoteEvent, "the note for the colleague");
        Assert.Contains(agent.ParticipantKey, pushed.Recipients);
        Assert.DoesNotContain(visitor.ParticipantKey, pushed.Recipients);

        // Something after the note reaches the visitor; nothing about the note ever did.
        (await conversation.SendAsync(agent.Caller, "a-1", "marker")).Ok();
        await gateway.WaitForAsync(visitor.ParticipantKey, e => e is MessageEvent { Message.Text: "marker" }, "the marker");
        Assert.DoesNotContain(gateway.ReceivedBy(visitor.ParticipantKey), e => e is NoteEvent);
        Assert.DoesNotContain((await conversation.GetMessages(visitor.Caller, 0, 100)).Ok().Messages, m => m.Text.Contains("refund", StringComparison.Ordinal));

        (await conversation.AddNote(visitor.Caller, "let me see")).AssertError(ErrorCodes.NotAllowed);
        (await conversation.GetNotes(visitor.Caller)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.AddNote(outsider.Caller, "drive-by")).AssertError(ErrorCodes.NotAllowed);
        (await conversation.AddNote(agent.Caller, " \n ")).AssertError(ErrorCodes.InvalidField);
        (await conversation.AddNote(agent.Caller, new string('n', 65_537))).AssertError(ErrorCodes.TextTooLong);

        (await conversation.AddNote(colleague.Caller, "second")).Ok();
        var notes = (await conversation.GetNotes(agent.Caller)).Ok();
        Assert.Equal(["VIP, refund approved", "second"], notes.Select(n => n.Text));

        // Notes are part of the conversation's durable state.
        await fixture.Cluster.DeactivateAsync(conversation);
        Assert.Equal(2, (await conversation.GetNotes(agent.Caller)).Ok().Length);
    }

    [Fact]
    public async Task TheVisitorRatesOnceAfterEachResolution()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.Rate(visitor.Caller, 5, null)).AssertError(ErrorCodes.InvalidState);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();

        (await conversation.Rate(agent.Caller, 5, null)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.Rate(visitor.Caller, 0, null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.Rate(visitor.Caller, 6, null)).AssertError(ErrorCodes.InvalidField);
        (await conversation.Rate(visitor.Caller, 4, new string('c', 1_001))).AssertError(ErrorCodes.InvalidField);

        var rated = (await conversation.Rate(visitor.Caller, 4, "quick")).Ok();
        Assert.Equal(4, rated.Csat!.Rating);
        Assert.Equal("quick", rated.Csat.Comment);
        (await conversation.Rate(visitor.Caller, 1, null)).AssertError(ErrorCodes.InvalidState);

        // Reopened and resolved again: one more rating.
        (await conversation.SendAsync(visitor.Caller, "c-1", "one more thing")).Ok();
        (await conversation.Rate(visitor.Caller, 2, null)).AssertError(ErrorCodes.InvalidState);
        (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        Assert.Equal(5, (await conversation.Rate(visitor.Caller, 5, null)).Ok().Csat!.Rating);
        (await conversation.Rate(visitor.Caller, 5, null)).AssertError(ErrorCodes.InvalidState);
    }

    [Fact]
    public async Task FirstResponseAndResolutionTimesAreRecorded()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.SendAsync(visitor.Caller, "c-1", "hello")).Ok();
        Assert.Null((await conversation.GetSummary())!.FirstResponseAt);
        await Task.Delay(50);
        var reply = (await conversation.SendAsync(agent.Caller, "a-1", "hi!")).Ok();
        (await conversation.SendAsync(agent.Caller, "a-2", "how can I help?")).Ok();
        var answered = (await conversation.GetSummary())!;
        Assert.Equal(reply.Ts, answered.FirstResponseAt);
        // Measured from creation to the first agent message (exactly; the delay only makes it clearly non-zero:
        // timers may fire a little early, so no tighter bound than that).
        Assert.Equal((reply.Ts - answered.CreatedAt).TotalSeconds, answered.FirstResponseSeconds);
        Assert.True(answered.FirstResponseSeconds > 0.02, $"first response after {answered.FirstResponseSeconds} s");
        Assert.Null(answered.ResolvedAt);

        var resolved = (await conversation.ChangeStatus(agent.Caller, ConversationStatus.Resolved, null)).Ok();
        Assert.True(resolved.ResolutionSeconds >= resolved.FirstResponseSeconds);

        // Both survive a reactivation.
        await fixture.Cluster.DeactivateAsync(conversation);
        var reloaded = (await conversation.GetSummary())!;
        Assert.Equal(reply.Ts, reloaded.FirstResponseAt);
        Assert.Equal(resolved.ResolvedAt, reloaded.ResolvedAt);
    }

    [Fact]
    public async Task ReadMarksGiveUnreadCountsAndASendersOwnMessagesAreRead()
    {
        var tenant = Scenario.NewTenant();
        await using var gateway = await TestGateway.StartAsync(Client);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant, gatewayId: gateway.Id);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        await visitor.Grain.Connect(gateway.Id, "conn-visitor");
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        (await conversation.SendAsync(visitor.Caller, "c-1", "a")).Ok();
        (await conversation.SendAsync(visitor.Caller, "c-2", "b")).Ok();
        var summary = (await conversation.GetSummary())!;
        Assert.Equal(2, summary.UnreadFor(agent.ParticipantKey));
        Assert.Equal(0, summary.UnreadFor(visitor.ParticipantKey));

        var reply = (await conversation.SendAsync(agent.Caller, "a-1", "hello")).Ok();
        summary = (await conversation.GetSummary())!;
        Assert.Equal(reply.Seq, summary.ReadMarks![agent.ParticipantKey]);
        Assert.Equal(0, summary.UnreadFor(agent.ParticipantKey));
        Assert.Equal(1, summary.UnreadFor(visitor.ParticipantKey));

        Assert.Equal(3, (await conversation.MarkRead(visitor.Caller, 3)).Ok());
        Assert.Equal(0, (await conversation.GetSummary())!.UnreadFor(visitor.ParticipantKey));

        // Marks advanced by sends are kept across a reactivation.
        (await conversation.SendAsync(visitor.Caller, "c-3", "c")).Ok();
        await fixture.Cluster.DeactivateAsync(conversation);
        summary = (await conversation.GetSummary())!;
        Assert.Equal(4, summary.ReadMarks![visitor.ParticipantKey]);
        Assert.Equal(1, summary.UnreadFor(agent.ParticipantKey));

        // The visitor's copy of a change carries only its own read mark.
        (await conversation.Label(agent.Caller, ["x"], null)).Ok();
        var forVisitor = await gateway.WaitForAsync(visitor.ParticipantKey, e => e is ConversationEvent, "a summary for the visitor");
        var marks = Assert.IsType<ConversationEvent>(forVisitor.Event).Summary.ReadMarks ?? [];
        Assert.DoesNotContain(agent.ParticipantKey, marks.Keys);
    }
}
