using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>A conversation's life after assignment: notes, labels, status changes, snooze, transfer, CSAT, unread.</summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class LifecycleTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task Internal_notes_reach_agents_and_never_the_visitor()
    {
        var (desk, agent, visitor, visitorToken, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        using var http = gateway.Http(desk.Agents[0].Token);

        var created = await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/notes", new { text = "VIP, refund approved" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var note = (await agent.ReceiveUntilAsync("note"))[^1];
        Assert.Equal("VIP, refund approved", note.GetProperty("note").Str("text"));
        Assert.Equal(desk.Agents[0].Id, note.GetProperty("note").GetProperty("author").Str("id"));

        // A message after the note: the visitor receives it, and nothing about the note before it.
        await agent.SendMessageAsync("marker", conversationId);
        var seen = await visitor.ReceiveUntilAsync("message", m => m.Str("text") == "marker");
        Assert.DoesNotContain(seen, f => f.Type() == "note" || f.GetRawText().Contains("refund approved", StringComparison.Ordinal));

        using var visitorHttp = gateway.Http(visitorToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await visitorHttp.GetAsync($"/api/v1/conversations/{conversationId}/notes"), HttpStatusCode.Forbidden));
        var history = await visitorHttp.GetStringAsync($"/api/v1/conversations/{conversationId}/messages");
        Assert.DoesNotContain("refund approved", history, StringComparison.Ordinal);

        var notes = await Desk.Ok(await http.GetAsync($"/api/v1/conversations/{conversationId}/notes"));
        Assert.Single(notes.GetProperty("notes").EnumerateArray());
        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/notes", new { text = "  " }), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Tags_and_priority_are_validated_and_hidden_from_the_visitor()
    {
        var (desk, agent, visitor, visitorToken, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        using var http = gateway.Http(desk.Agents[0].Token);

        var labelled = await Desk.Ok(await http.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = new[] { " Billing ", "vip" }, priority = "urgent" }));
        Assert.Equal(["billing", "vip"], labelled.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal("urgent", labelled.Str("priority"));

        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { priority = "asap" }), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = Enumerable.Range(0, 21).Select(i => "t" + i).ToArray() }), HttpStatusCode.BadRequest));

        var seenByVisitor = await desk.ConversationAsync(conversationId, visitorToken);
        Assert.Empty(seenByVisitor.GetProperty("tags").EnumerateArray());
    }

    [Fact]
    public async Task Resolve_then_csat_once_and_a_new_visitor_message_reopens_with_the_same_agent()
    {
        var (desk, agent, visitor, visitorToken, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        var (agentId, agentToken) = desk.Agents[0];
        using var http = gateway.Http(agentToken);
        using var visitorHttp = gateway.Http(visitorToken);

        Assert.Equal("invalid_state", await Desk.ProblemCode(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 5 }), HttpStatusCode.Conflict));

        await agent.SendMessageAsync("Here is your answer", conversationId);
        var resolved = await Desk.Ok(await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        Assert.Equal("resolved", resolved.Str("status"));
        Assert.True(resolved.GetProperty("firstResponseSeconds").GetDouble() >= 0);
        Assert.True(resolved.GetProperty("resolutionSeconds").GetDouble() >= resolved.GetProperty("firstResponseSeconds").GetDouble());
        await visitor.ReceiveUntilAsync("conversation", f => f.Str("status") == "resolved");

        Assert.Equal("not_allowed", await Desk.ProblemCode(await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 5 }), HttpStatusCode.Forbidden));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 6 }), HttpStatusCode.BadRequest));
        var rated = await Desk.Ok(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 4, comment = "quick" }));
        Assert.Equal(4, rated.GetProperty("csat").GetProperty("rating").GetInt32());
        Assert.Equal("invalid_state", await Desk.ProblemCode(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 1 }), HttpStatusCode.Conflict));

        await visitor.SendMessageAsync("one more thing", conversationId);
        var reopened = await desk.WaitForAsync(conversationId, c => c.Str("status") == "open", "reopened");
        Assert.Equal(agentId, reopened.Str("assigneeId"));
    }

    [Fact]
    public async Task Pending_keeps_the_assignee_and_the_visitor_reopens_it()
    {
        var (desk, agent, visitor, _, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        using var http = gateway.Http(desk.Agents[0].Token);

        var pending = await Desk.Ok(await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "pending" }));
        Assert.Equal("pending", pending.Str("status"));
        Assert.Equal(desk.Agents[0].Id, pending.Str("assigneeId"));

        await visitor.SendMessageAsync("I'm back", conversationId);
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "open" && c.Str("assigneeId") == desk.Agents[0].Id, "reopened");
    }

    [Fact]
    public async Task A_snoozed_conversation_wakes_up_by_itself()
    {
        var (desk, agent, visitor, _, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        using var http = gateway.Http(desk.Agents[0].Token);

        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "snoozed" }), HttpStatusCode.BadRequest));
        var until = DateTimeOffset.UtcNow.AddSeconds(2);
        var snoozed = await Desk.Ok(await http.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "snoozed", snoozedUntil = until }));
        Assert.Equal("snoozed", snoozed.Str("status"));
        Assert.Equal(until.UtcDateTime, snoozed.GetProperty("snoozedUntil").GetDateTime().ToUniversalTime(), TimeSpan.FromMilliseconds(1));

        // Reading the agent's socket meanwhile keeps it answering pings (this fixture cuts silent clients within
        // seconds), so the agent is still online to get the conversation back.
        await agent.ReceiveUntilAsync("conversation", f => f.Str("conversationId") == conversationId && f.Str("status") == "snoozed");
        await agent.ReceiveUntilAsync("conversation", f => f.Str("conversationId") == conversationId && f.Str("status") == "open");
        var woken = await desk.WaitForAsync(conversationId, c => c.Str("status") == "open", "woken");
        Assert.True(DateTimeOffset.UtcNow >= until);
        Assert.Equal(JsonValueKind.Null, woken.GetProperty("snoozedUntil").ValueKind);
    }

    [Fact]
    public async Task Transfer_to_a_full_agent_is_refused_unless_an_admin_forces_it_and_a_team_transfer_requeues()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 1);
        var (a0, a0Token) = desk.Agents[0];
        var (a1, a1Token) = desk.Agents[1];
        await using var s0 = await gateway.ConnectAsync(a0Token);
        await using var s1 = await gateway.ConnectAsync(a1Token);
        var (_, _, v0) = await desk.VisitorAsync("V0");
        var (_, _, v1) = await desk.VisitorAsync("V1");
        await using var _ = v0;
        await using var __ = v1;
        var c0 = (await v0.SendMessageAsync("first")).Str("conversationId")!;
        var c1 = (await v1.SendMessageAsync("second")).Str("conversationId")!;
        var first = await desk.WaitForAsync(c0, c => c.Str("status") == "open", "assigned");
        await desk.WaitForAsync(c1, c => c.Str("status") == "open", "assigned");
        var holder = first.Str("assigneeId")!;
        var other = holder == a0 ? a1 : a0;
        using var holderHttp = gateway.Http(holder == a0 ? a0Token : a1Token);

        Assert.Equal("at_capacity", await Desk.ProblemCode(await holderHttp.PostAsJsonAsync($"/api/v1/conversations/{c0}/transfer", new { agentId = other }), HttpStatusCode.Conflict));
        var forced = await Desk.Ok(await desk.Admin.PostAsJsonAsync($"/api/v1/conversations/{c0}/transfer", new { agentId = other }));
        Assert.Equal(other, forced.Str("assigneeId"));

        // A team nobody online serves: the conversation waits in that team's queue.
        var (b, bToken) = await desk.CreateAgentAsync("b-" + Guid.NewGuid().ToString("N")[..8], 2);
        var team2 = "team2-" + Guid.NewGuid().ToString("N")[..8];
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/teams/{team2}", new { name = "Second line", agentIds = new[] { b } }));
        using var otherHttp = gateway.Http(other == a0 ? a0Token : a1Token);
        var moved = await Desk.Ok(await otherHttp.PostAsJsonAsync($"/api/v1/conversations/{c0}/transfer", new { teamId = team2 }));
        Assert.Equal(team2, moved.Str("team"));
        await desk.WaitForAsync(c0, c => c.Str("status") == "queued", "queued for the team");

        await using var bSocket = await gateway.ConnectAsync(bToken);
        await desk.WaitForAsync(c0, c => c.Str("status") == "open" && c.Str("assigneeId") == b, "assigned within the team");
        Assert.Equal("invalid_field", await Desk.ProblemCode(await otherHttp.PostAsJsonAsync($"/api/v1/conversations/{c0}/transfer", new { agentId = a0, teamId = team2 }), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Unread_counts_follow_read_marks_and_an_agents_own_messages_are_read()
    {
        var (desk, agent, visitor, _, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        var (agentId, agentToken) = desk.Agents[0];
        using var http = gateway.Http(agentToken);

        var reply = await agent.SendMessageAsync("hello", conversationId);
        Assert.Equal(0, (await desk.ConversationAsync(conversationId, agentToken)).GetProperty("unread").GetInt64());

        await visitor.SendMessageAsync("a", conversationId);
        var last = await visitor.SendMessageAsync("b", conversationId);
        Assert.Equal(2, (await desk.ConversationAsync(conversationId, agentToken)).GetProperty("unread").GetInt64());
        // The list follows within about a second (the directory's coalesced write).
        await ConversationList.WaitForRowAsync(http, conversationId, c => c.GetProperty("unread").GetInt64() == 2, "?assignee=me");
        var me = await Desk.Ok(await http.GetAsync("/api/v1/agents/me"));
        Assert.Equal(2, me.GetProperty("unread").GetInt64());

        await agent.SendAsync(new { type = "read", conversationId, seq = last.Long("seq") });
        var read = await visitor.ReceiveUntilAsync("read");
        Assert.Equal(agentId, read[^1].GetProperty("reader").Str("id"));
        Assert.True(reply.Long("seq") < last.Long("seq"));
        Assert.Equal(0, (await desk.ConversationAsync(conversationId, agentToken)).GetProperty("unread").GetInt64());
    }

    [Fact]
    public async Task List_filters_by_assignee_status_team_and_inbox()
    {
        var (desk, agent, visitor, _, conversationId) = await AssignedConversationAsync();
        await using var _ = agent;
        await using var __ = visitor;
        using var http = gateway.Http(desk.Agents[0].Token);

        static string[] Ids(JsonElement list) => [.. list.GetProperty("conversations").EnumerateArray().Select(c => c.Str("conversationId")!)];
        Assert.Contains(conversationId, Ids(await Desk.Ok(await http.GetAsync("/api/v1/conversations?assignee=me&status=open"))));
        Assert.Contains(conversationId, Ids(await Desk.Ok(await http.GetAsync($"/api/v1/conversations?inbox={desk.Inbox}"))));
        Assert.DoesNotContain(conversationId, Ids(await Desk.Ok(await http.GetAsync("/api/v1/conversations?assignee=unassigned"))));
        Assert.DoesNotContain(conversationId, Ids(await Desk.Ok(await http.GetAsync("/api/v1/conversations?status=resolved"))));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.GetAsync("/api/v1/conversations?status=closed"), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await http.GetAsync("/api/v1/conversations?assignee=Not%20An%20Id"), HttpStatusCode.BadRequest));
    }

    /// <summary>A desk with one online agent and a visitor whose conversation is assigned to that agent.</summary>
    private async Task<(Desk Desk, ChatClient Agent, ChatClient Visitor, string VisitorToken, string ConversationId)> AssignedConversationAsync()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 3);
        var agent = await gateway.ConnectAsync(desk.Agents[0].Token);
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "open" && c.Str("assigneeId") == desk.Agents[0].Id, "assigned");
        return (desk, agent, visitor, visitorToken, conversationId);
    }
}
