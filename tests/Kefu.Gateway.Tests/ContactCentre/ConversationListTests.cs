using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>
/// The conversation list a console shows after a reload (issue #11, item 3): previews of the last visitor or agent
/// message, last activity, unread counts, display names, and the order (queued longest-waiting first, then by activity).
/// </summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class ConversationListTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task List_items_carry_preview_activity_unread_and_names_and_sort_queued_first_then_by_last_activity()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var (agentId, agentToken) = desk.Agents[0];
        await using var agent = await gateway.ConnectAsync(agentToken);

        // Two open conversations (the agent's capacity), the older one written in last; then two queued ones.
        var (_, _, ana) = await desk.VisitorAsync("Ana");
        await using var _ = ana;
        var anaId = (await ana.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(anaId, c => c.Str("assigneeId") == agentId, "assigned");
        var (_, danToken, dan) = await desk.VisitorAsync("Dan");
        await using var __ = dan;
        var danId = (await dan.SendMessageAsync("hey")).Str("conversationId")!;
        await desk.WaitForAsync(danId, c => c.Str("assigneeId") == agentId, "assigned");

        var reply = await agent.SendMessageAsync("Hi Ana, how can I help?", anaId);
        await ana.SendMessageAsync("I need help", anaId);
        var last = await ana.SendMessageAsync("with   my\norder", anaId);

        var (_, _, bob) = await desk.VisitorAsync("Bob");
        await using var ___ = bob;
        var bobId = (await bob.SendMessageAsync("first in the queue")).Str("conversationId")!;
        var (_, _, cat) = await desk.VisitorAsync("Cat");
        await using var ____ = cat;
        var longText = new string('x', 300);
        var catId = (await cat.SendMessageAsync(longText)).Str("conversationId")!;
        await desk.WaitForAsync(catId, c => c.Str("status") == "queued", "queued");

        using var http = gateway.Http(agentToken);

        // The rows follow the messages within about a second (the directory's coalesced writes).
        var list = await ConversationList.WaitForAsync(
            http,
            l => l.Select(c => c.Str("conversationId")).SequenceEqual([bobId, catId, anaId, danId])
                && l[2].Str("preview") == "with my order" && l[2].GetProperty("unread").GetInt32() == 2 && l[1].Str("preview") is not null,
            "the four conversations in order with Ana's last preview",
            $"?inbox={desk.Inbox}");

        var anaRow = list[2];
        Assert.Equal("with my order", anaRow.Str("preview"));
        Assert.Equal(last.GetProperty("ts").GetDateTime(), anaRow.GetProperty("lastActivityAt").GetDateTime());
        Assert.Equal(2, anaRow.GetProperty("unread").GetInt32()); // after the agent's reply, which read what came before
        Assert.Equal("Ana", anaRow.Str("visitorName"));
        Assert.Equal(agentId, anaRow.Str("assigneeName")); // the display name (here: the user name)
        Assert.True(reply.Long("seq") < last.Long("seq"));

        var catRow = list[1];
        Assert.Equal(140, catRow.Str("preview")!.Length);
        Assert.EndsWith("…", catRow.Str("preview"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, catRow.GetProperty("assigneeName").ValueKind);
        Assert.Equal(1, catRow.GetProperty("unread").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, list[0].GetProperty("queuedAt").ValueKind);

        // The agent reads Ana's messages: nothing unread any more.
        // (On new connections: this fixture drops a socket that does not answer pings for a second, as these did while
        // the test waited for the list.)
        await using var reader = await gateway.ConnectAsync(agentToken);
        await reader.SendAsync(new { type = "read", conversationId = anaId, seq = last.Long("seq") });
        await ConversationList.WaitForRowAsync(http, anaId, c => c.GetProperty("unread").GetInt32() == 0, $"?inbox={desk.Inbox}");

        // Dan writes: his conversation moves above Ana's.
        await using var danAgain = await gateway.ConnectAsync(danToken);
        await danAgain.SendMessageAsync("still there?", danId);
        await ConversationList.WaitForAsync(
            http, l => l.Select(c => c.Str("conversationId")).SequenceEqual([bobId, catId, danId, anaId]), "Dan above Ana", $"?inbox={desk.Inbox}");
    }

    [Fact]
    public async Task The_away_message_never_becomes_the_preview()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2); // nobody online: the away message follows
        var (_, visitorToken, visitor) = await desk.VisitorAsync("Eve");
        await using var _ = visitor;
        var sent = await visitor.SendMessageAsync("anyone there?");
        var conversationId = sent.Str("conversationId")!;
        using var visitorHttp = gateway.Http(visitorToken);
        var history = await Desk.Ok(await visitorHttp.GetAsync($"/api/v1/conversations/{conversationId}/messages"));
        var away = history.GetProperty("messages").EnumerateArray().Last();
        Assert.Equal("system", away.GetProperty("sender").Str("role"));
        Assert.True(away.Long("seq") > sent.Long("seq"));

        var row = await ConversationList.WaitForRowAsync(desk.Admin, conversationId, r => r.Str("preview") == "anyone there?", $"?inbox={desk.Inbox}");
        Assert.Equal(sent.GetProperty("ts").GetDateTime(), row.GetProperty("lastActivityAt").GetDateTime());
        Assert.Equal("Eve", row.Str("visitorName"));
        Assert.Equal(1, row.GetProperty("unread").GetInt32());
    }
}
