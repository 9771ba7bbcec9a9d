using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// An agent's sends to several conversations are handled concurrently (docs/protocol.md §4, MaxSendsInFlight), yet the
/// client sees what the protocol promises: acks in the order it sent, each conversation's messages stored in the order
/// they were sent, and any other frame answered after the sends before it, seeing their messages.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class PipelinedSendTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Sends_to_several_conversations_are_acked_in_send_order_and_stored_in_order()
    {
        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        var conversations = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var (_, visitorToken) = await gateway.CreateVisitorAsync($"Pipelined {i} {Ulid.NewUlid()}");
            await using var visitor = await gateway.ConnectAsync(visitorToken);
            var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
            await agent.SendAsync(new { type = "join", conversationId });
            await agent.ReceiveUntilAsync("joined", f => f.Str("conversationId") == conversationId);
            conversations.Add(conversationId);
        }

        // 40 sends written back to back, round robin over the conversations, without waiting for any ack; then a sync.
        var sent = new List<(string ClientMsgId, string ConversationId)>();
        for (var n = 0; n < 40; n++)
        {
            var conversationId = conversations[n % conversations.Count];
            var clientMsgId = $"p-{n}";
            sent.Add((clientMsgId, conversationId));
            await agent.SendAsync(new { type = "send", conversationId, clientMsgId, text = $"reply {n}" });
        }

        await agent.SendAsync(new { type = "sync", conversationId = conversations[0], afterSeq = 1 });
        var frames = await agent.ReceiveUntilAsync("synced");

        var acks = frames.Where(f => f.Type() == "ack").ToList();
        Assert.Equal(sent.Select(s => s.ClientMsgId), acks.Select(a => a.Str("clientMsgId")));
        foreach (var conversationId in conversations)
        {
            // seq 1 is the visitor's hello: the agent's replies follow as 2, 3, … in the order they were sent.
            var mine = sent.Select((s, i) => (s, i)).Where(x => x.s.ConversationId == conversationId).Select(x => x.i).ToList();
            var seqs = acks.Where(a => a.Str("conversationId") == conversationId).Select(a => a.Long("seq")).ToList();
            Assert.Equal(Enumerable.Range(2, mine.Count).Select(i => (long)i), seqs);
        }

        // The sync came after the sends, so it was answered after their acks and returns all ten of the first conversation.
        var lastAck = frames.FindLastIndex(f => f.Type() == "ack");
        var synced = frames.FindIndex(f => f.Type() == "synced");
        Assert.True(lastAck < synced, "the sync was answered before the sends' acks");
        Assert.Equal(11, frames[synced].Long("lastSeq"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"reply {i * 4}"),
            frames.Where(f => f.Type() == "message" && f.Str("conversationId") == conversations[0] && f.GetProperty("sender").Str("role") == "agent")
                .DistinctBy(f => f.Long("seq")).OrderBy(f => f.Long("seq")).Select(f => f.Str("text")));
    }
}
