using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class ChatTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Visitor_and_agent_exchange_messages_in_real_time()
    {
        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync("Ann");
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var first = await visitor.SendMessageAsync("Hello, I need help");
        var conversationId = first.Str("conversationId")!;
        Assert.Equal(1, first.Long("seq"));
        Assert.True(Ulid.TryParse(first.Str("messageId"), out _));

        var (agentId, agentToken) = await gateway.CreateAgentAsync();
        using (var http = gateway.Http(agentToken))
        {
            // A new conversation waits for an agent (the default inbox here assigns nobody by itself).
            // The list follows the message within about a second (the directory's coalesced write).
            var listed = await ConversationList.WaitForRowAsync(http, conversationId, c => c.Long("lastSeq") == 1, "?status=queued");
            Assert.Equal(visitorId, listed.Str("visitorId"));
        }

        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        var joined = (await agent.ReceiveUntilAsync("joined"))[^1];
        Assert.Equal(1, joined.Long("lastSeq"));

        var reply = await agent.SendMessageAsync("Hi Ann, how can I help?", conversationId);
        Assert.Equal(2, reply.Long("seq"));

        var pushed = (await visitor.ReceiveUntilAsync("message"))[^1];
        Assert.Equal(conversationId, pushed.Str("conversationId"));
        Assert.Equal(2, pushed.Long("seq"));
        Assert.Equal("Hi Ann, how can I help?", pushed.Str("text"));
        Assert.Equal("agent", pushed.GetProperty("sender").Str("role"));
        Assert.Equal(agentId, pushed.GetProperty("sender").Str("id"));
        Assert.Equal(reply.Str("messageId"), pushed.Str("messageId"));

        await visitor.SendMessageAsync("My order is late");
        var toAgent = (await agent.ReceiveUntilAsync("message"))[^1];
        Assert.Equal(3, toAgent.Long("seq"));
        Assert.Equal("visitor", toAgent.GetProperty("sender").Str("role"));
        Assert.Equal(visitorId, toAgent.GetProperty("sender").Str("id"));
        Assert.Equal("My order is late", toAgent.Str("text"));
    }

    [Fact]
    public async Task Retried_send_returns_the_same_ack_and_creates_nothing()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var ack1 = await visitor.SendMessageAsync("once", clientMsgId: "retry-1");
        var conversationId = ack1.Str("conversationId")!;
        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");

        var ack2 = await visitor.SendMessageAsync("once", clientMsgId: "retry-1");
        Assert.Equal(ack1.Str("messageId"), ack2.Str("messageId"));
        Assert.Equal(ack1.Long("seq"), ack2.Long("seq"));

        // A later message is the barrier: a duplicate would have been pushed before it.
        await visitor.SendMessageAsync("twice?", clientMsgId: "retry-2");
        var frames = await agent.ReceiveUntilAsync("message", f => f.Str("clientMsgId") == "retry-2");
        Assert.DoesNotContain(frames, f => f.Type() == "message" && f.Str("clientMsgId") == "retry-1");

        using var http = gateway.Http(agentToken);
        var history = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages");
        var seqs = history.GetProperty("messages").EnumerateArray().Select(m => m.Long("seq")).ToArray();
        Assert.Equal([1L, 2L], seqs);
        Assert.Equal(2, history.Long("lastSeq"));
    }

    [Fact]
    public async Task Reconnect_then_sync_gives_exactly_what_was_missed()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("before the tunnel")).Str("conversationId")!;
        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");

        await agent.SendMessageAsync("reply 2", conversationId);
        var lastSeen = (await visitor.ReceiveUntilAsync("message"))[^1].Long("seq");
        Assert.Equal(2, lastSeen);
        await visitor.DisposeAsync();

        for (var i = 3; i <= 7; i++)
        {
            await agent.SendMessageAsync($"reply {i}", conversationId);
        }

        await using var resumed = await gateway.ConnectAsync(visitorToken);
        await resumed.SendAsync(new { type = "sync", conversationId, afterSeq = lastSeen });
        var frames = await resumed.ReceiveUntilAsync("synced");
        var synced = frames[^1];
        var seqs = frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")).ToArray();
        Assert.Equal([3L, 4L, 5L, 6L, 7L], seqs);
        Assert.Equal(7, synced.Long("lastSeq"));
        Assert.Equal("reply 5", frames.Single(f => f.Type() == "message" && f.Long("seq") == 5).Str("text"));

        // Live delivery continues after the sync without a gap or a repeat.
        await agent.SendMessageAsync("reply 8", conversationId);
        var after = await resumed.ReceiveUntilAsync("message");
        Assert.Equal([8L], after.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
    }

    [Fact]
    public async Task Sync_pages_through_long_histories_in_order()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        string? conversationId = null;
        for (var i = 1; i <= 40; i++)
        {
            conversationId = (await visitor.SendMessageAsync($"m{i}", conversationId)).Str("conversationId");
        }

        await using var other = await gateway.ConnectAsync(visitorToken);
        await other.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var frames = await other.ReceiveUntilAsync("synced");
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));

        using var http = gateway.Http(visitorToken);
        var page = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages?after=10&limit=5");
        Assert.Equal([11L, 12L, 13L, 14L, 15L], page.GetProperty("messages").EnumerateArray().Select(m => m.Long("seq")));
        Assert.Equal(40, page.Long("lastSeq"));
    }

    [Fact]
    public async Task Every_connection_of_an_agent_receives_and_the_sender_gets_only_the_ack()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;

        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var laptop = await gateway.ConnectAsync(agentToken);
        await using var phone = await gateway.ConnectAsync(agentToken);
        await laptop.SendAsync(new { type = "join", conversationId });
        await laptop.ReceiveUntilAsync("joined");

        await visitor.SendMessageAsync("anyone there?");
        Assert.Equal("anyone there?", (await laptop.ReceiveUntilAsync("message"))[^1].Str("text"));
        Assert.Equal("anyone there?", (await phone.ReceiveUntilAsync("message"))[^1].Str("text"));

        var ack = await laptop.SendMessageAsync("yes, from the laptop", conversationId);
        var onPhone = (await phone.ReceiveUntilAsync("message"))[^1];
        Assert.Equal(ack.Str("messageId"), onPhone.Str("messageId"));
        Assert.Equal("yes, from the laptop", (await visitor.ReceiveUntilAsync("message"))[^1].Str("text"));

        // The laptop got the ack, not its own message: the next frame it sees is the visitor's next message.
        await visitor.SendMessageAsync("great");
        var laptopFrames = await laptop.ReceiveUntilAsync("message", f => f.Str("text") == "great");
        Assert.DoesNotContain(laptopFrames, f => f.Type() == "message" && f.Str("messageId") == ack.Str("messageId"));
    }

    [Fact]
    public async Task Typing_and_read_receipts_reach_the_other_side()
    {
        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("hi")).Str("conversationId")!;
        var (agentId, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");

        await visitor.SendAsync(new { type = "typing", state = "on" });
        var typing = (await agent.ReceiveUntilAsync("typing"))[^1];
        Assert.Equal(conversationId, typing.Str("conversationId"));
        Assert.Equal("on", typing.Str("state"));
        Assert.Equal(visitorId, typing.GetProperty("sender").Str("id"));

        await agent.SendAsync(new { type = "read", conversationId, seq = 1 });
        var read = (await visitor.ReceiveUntilAsync("read"))[^1];
        Assert.Equal(1, read.Long("seq"));
        Assert.Equal(agentId, read.GetProperty("reader").Str("id"));
        Assert.Equal("agent", read.GetProperty("reader").Str("role"));
    }

    [Fact]
    public async Task Agents_are_told_about_new_conversations_by_push()
    {
        var (agentId, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        // Presence reaches the tenant directory one-way; a ping round trip gives it time without sleeping blind.
        await agent.SendAsync(new { type = "ping" });
        await agent.ExpectAsync("pong");

        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("new here")).Str("conversationId")!;

        var announced = (await agent.ReceiveUntilAsync("conversation", f => f.Str("conversationId") == conversationId))[^1];
        Assert.Equal(visitorId, announced.Str("visitorId"));
        Assert.Equal("queued", announced.Str("status"));

        await agent.SendAsync(new { type = "join", conversationId });
        var assigned = (await agent.ReceiveUntilAsync("conversation", f => f.Str("assigneeId") == agentId))[^1];
        Assert.Equal(conversationId, assigned.Str("conversationId"));
    }

    [Fact]
    public async Task A_sync_from_beyond_the_end_does_not_swallow_later_messages()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("one")).Str("conversationId")!;
        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");

        await agent.SendAsync(new { type = "sync", conversationId, afterSeq = 100 });
        var synced = (await agent.ReceiveUntilAsync("synced"))[^1];
        Assert.Equal(1, synced.Long("lastSeq"));

        await visitor.SendMessageAsync("two");
        var live = (await agent.ReceiveUntilAsync("message"))[^1];
        Assert.Equal(2, live.Long("seq"));
        Assert.Equal("two", live.Str("text"));
    }

    [Fact]
    public async Task Ping_gets_pong()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        await client.SendAsync(new { type = "ping" });
        await client.ExpectAsync("pong");
        Assert.Equal("kefu.v1.json", client.Socket.SubProtocol);
    }
}
