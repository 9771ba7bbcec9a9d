using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// <c>sync</c> answers one page (at most <c>SyncPageSize</c> messages, and at most half the connection's byte budget)
/// and says whether more remain; a client pages on with <c>afterSeq = throughSeq</c>. Paged or not, a connection gets
/// every message once, in seq order, live ones included (docs/protocol.md §9.3).
/// </summary>
[Collection(GuardGatewayCollection.Name)]
public sealed class SyncPagingTests(GuardGatewayFixture gateway)
{
    private const int PageSize = GuardGatewayFixture.SyncPageSize;

    [Fact]
    public async Task A_thousand_messages_are_synced_page_by_page_complete_in_order_and_once()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        string conversationId;
        await using (var writer = await gateway.ConnectAsync(token))
        {
            conversationId = await SendManyAsync(writer, 1000, i => $"message {i}");
        }

        await using var reader = await gateway.ConnectAsync(token);
        var seqs = new List<long>();
        long through = 0;
        var pages = 0;
        while (true)
        {
            await reader.SendAsync(new { type = "sync", conversationId, afterSeq = through });
            var frames = await reader.ReceiveUntilAsync("synced");
            var messages = frames.Where(f => f.Type() == "message").ToList();
            var synced = frames[^1];
            pages++;
            Assert.InRange(messages.Count, 1, PageSize);
            Assert.Equal(conversationId, synced.Str("conversationId"));
            Assert.Equal(1000, synced.Long("lastSeq"));
            Assert.Equal(messages[^1].Long("seq"), synced.Long("throughSeq"));
            Assert.Equal($"message {messages[0].Long("seq")}", messages[0].Str("text"));
            seqs.AddRange(messages.Select(m => m.Long("seq")));
            through = synced.Long("throughSeq");
            if (!synced.GetProperty("hasMore").GetBoolean())
            {
                break;
            }

            Assert.True(through < 1000);
        }

        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), seqs);
        Assert.Equal(1000 / PageSize, pages);
        Assert.Equal(1000, through);
    }

    [Fact]
    public async Task A_complete_sync_says_so()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var conversationId = await SendManyAsync(client, 3, i => $"m{i}");
        await client.SendAsync(new { type = "sync", afterSeq = 1 });
        var frames = await client.ReceiveUntilAsync("synced");
        Assert.Equal([2L, 3L], frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
        var synced = frames[^1];
        Assert.Equal(3, synced.Long("lastSeq"));
        Assert.Equal(3, synced.Long("throughSeq"));
        Assert.False(synced.GetProperty("hasMore").GetBoolean());

        // Nothing new: throughSeq is the last seq all the same.
        await client.SendAsync(new { type = "sync", conversationId, afterSeq = 3 });
        synced = await client.ExpectAsync("synced");
        Assert.Equal(3, synced.Long("throughSeq"));
        Assert.False(synced.GetProperty("hasMore").GetBoolean());
    }

    [Fact]
    public async Task Large_messages_make_smaller_pages_so_one_sync_cannot_fill_the_gateway()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        const int count = 30;
        var conversationId = await SendManyAsync(client, count, i => new string((char)('a' + (i % 26)), 8000));

        await client.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var frames = await client.ReceiveUntilAsync("synced");
        var first = frames.Where(f => f.Type() == "message").ToList();
        var synced = frames[^1];
        Assert.InRange(first.Count, 1, count - 1);
        Assert.True(synced.GetProperty("hasMore").GetBoolean());
        var pageBytes = first.Sum(m => m.GetRawText().Length);
        Assert.True(pageBytes <= GuardGatewayFixture.OutboundBytes / 2, $"a page of {pageBytes} bytes");

        var seqs = first.Select(m => m.Long("seq")).ToList();
        while (synced.GetProperty("hasMore").GetBoolean())
        {
            await client.SendAsync(new { type = "sync", conversationId, afterSeq = synced.Long("throughSeq") });
            frames = await client.ReceiveUntilAsync("synced");
            seqs.AddRange(frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
            synced = frames[^1];
        }

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), seqs);
    }

    [Fact]
    public async Task Live_messages_that_arrive_while_a_client_pages_are_neither_lost_nor_repeated_nor_reordered()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        string conversationId;
        await using (var writer = await gateway.ConnectAsync(visitorToken))
        {
            conversationId = await SendManyAsync(writer, 400, i => $"history {i}");
        }

        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");

        await using var reader = await gateway.ConnectAsync(visitorToken);
        const int live = 150;
        var total = 400 + live;

        // The agent writes while the visitor pages through the history, from after the first page on (a live
        // message that comes before the first sync would rightly come again in the history: §9.3).
        Task? writing = null;
        var seqs = new List<long>();
        long through = 0;
        while (true)
        {
            writing ??= through > 0
                ? Task.Run(async () =>
                {
                    for (var i = 0; i < live; i++)
                    {
                        await agent.SendMessageAsync($"live {i}", conversationId);
                    }
                })
                : null;
            await reader.SendAsync(new { type = "sync", conversationId, afterSeq = through });
            var frames = await reader.ReceiveUntilAsync("synced");
            seqs.AddRange(frames.Where(f => f.Type() == "message" && f.Str("conversationId") == conversationId).Select(f => f.Long("seq")));
            var synced = frames[^1];
            through = synced.Long("throughSeq");
            if (!synced.GetProperty("hasMore").GetBoolean())
            {
                break;
            }
        }

        // After the last page everything else comes live.
        Assert.NotNull(writing);
        await writing;
        while (seqs.Count == 0 || seqs[^1] < total)
        {
            var frame = await reader.ReceiveAsync();
            if (frame.Type() == "message" && frame.Str("conversationId") == conversationId)
            {
                seqs.Add(frame.Long("seq"));
            }
        }

        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), seqs);
    }

    /// <summary>Sends <paramref name="count"/> messages without waiting for each ack, then collects the acks.</summary>
    private static async Task<string> SendManyAsync(ChatClient client, int count, Func<int, string> text)
    {
        var first = await client.SendMessageAsync(text(1));
        var conversationId = first.Str("conversationId")!;
        for (var i = 2; i <= count; i++)
        {
            await client.SendAsync(new { type = "send", clientMsgId = $"bulk-{i}", text = text(i), conversationId });
        }

        var acked = 1;
        while (acked < count)
        {
            var frame = await client.ReceiveAsync();
            if (frame.Type() == "ack")
            {
                acked++;
            }
            else
            {
                Assert.NotEqual("error", frame.Type());
            }
        }

        return conversationId;
    }
}
