using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Gateway.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Proto = Kefu.Contracts.Protocol;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// A plain <c>sync</c> answers every message after <c>afterSeq</c> (the stable core contract), streamed: the server
/// reads <c>SyncPageSize</c> messages at a time and queues the next page only once the connection's queue is below
/// <c>SyncByteBudget</c>. A <c>sync</c> with <c>limit</c> answers at most that many and says whether more remain
/// (<c>hasMore</c>); the client pages on with <c>afterSeq = throughSeq</c>. Either way a connection gets every message
/// once, in seq order, live ones included (docs/protocol.md §5.3, §9.3).
/// </summary>
[Collection(GuardGatewayCollection.Name)]
public sealed class SyncPagingTests(GuardGatewayFixture gateway)
{
    private const int PageSize = GuardGatewayFixture.SyncPageSize;

    [Fact]
    public async Task A_plain_sync_of_a_thousand_messages_arrives_complete_in_order_and_once_in_internal_pages_within_the_byte_budget()
    {
        var (visitorId, token) = await gateway.CreateVisitorAsync();
        string conversationId;
        await using (var writer = await gateway.ConnectAsync(token))
        {
            conversationId = await SendManyAsync(writer, 1000, i => $"message {i}");
        }

        await using var reader = await gateway.ConnectAsync(token);
        await reader.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var frames = await reader.ReceiveUntilAsync("synced");
        var messages = frames.Where(f => f.Type() == "message").ToList();
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), messages.Select(m => m.Long("seq")));
        Assert.All(messages, m => Assert.Equal($"message {m.Long("seq")}", m.Str("text")));
        AssertComplete(frames[^1], conversationId, 1000);

        var connection = SyncingConnection(visitorId);
        Assert.True(connection.SyncPagesQueued >= 1000 / PageSize, $"{connection.SyncPagesQueued} pages");
        Assert.InRange(connection.MaxQueuedBytes, 1, GuardGatewayFixture.SyncByteBudget);
    }

    [Fact]
    public async Task A_plain_sync_of_large_messages_is_cut_into_pages_that_fit_the_byte_budget()
    {
        var (visitorId, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        const int count = 30;
        var conversationId = await SendManyAsync(client, count, i => new string((char)('a' + (i % 26)), 8000));

        await client.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var frames = await client.ReceiveUntilAsync("synced");
        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
        AssertComplete(frames[^1], conversationId, count);

        // 30 frames of 8 KB do not fit one 32 KB budget: several pages, none of them queued beyond it.
        var connection = SyncingConnection(visitorId);
        Assert.True(connection.SyncPagesQueued >= count * 8000 / GuardGatewayFixture.SyncByteBudget, $"{connection.SyncPagesQueued} pages");
        Assert.InRange(connection.MaxQueuedBytes, 8000, GuardGatewayFixture.SyncByteBudget);
    }

    [Fact]
    public async Task A_sync_with_a_limit_answers_one_page_at_a_time_and_says_whether_more_remain()
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
            await reader.SendAsync(new { type = "sync", conversationId, afterSeq = through, limit = PageSize });
            var frames = await reader.ReceiveUntilAsync("synced");
            var messages = frames.Where(f => f.Type() == "message").ToList();
            var synced = frames[^1];
            pages++;
            Assert.InRange(messages.Count, 1, PageSize);
            Assert.Equal(conversationId, synced.Str("conversationId"));
            Assert.Equal(1000, synced.Long("lastSeq"));
            Assert.Equal(messages[^1].Long("seq"), synced.Long("throughSeq"));
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

        // A smaller limit gives fewer; a larger one is capped at SyncPageSize; below 1 is refused.
        await reader.SendAsync(new { type = "sync", conversationId, afterSeq = 0, limit = 7 });
        var small = await reader.ReceiveUntilAsync("synced");
        Assert.Equal(7, small.Count(f => f.Type() == "message"));
        Assert.Equal(7, small[^1].Long("throughSeq"));
        Assert.True(small[^1].GetProperty("hasMore").GetBoolean());

        await reader.SendAsync(new { type = "sync", conversationId, afterSeq = 0, limit = 100_000 });
        var capped = await reader.ReceiveUntilAsync("synced");
        Assert.Equal(PageSize, capped.Count(f => f.Type() == "message"));
        Assert.True(capped[^1].GetProperty("hasMore").GetBoolean());

        await reader.SendAsync(new { type = "sync", conversationId, afterSeq = 0, limit = 0 });
        var refused = await reader.ExpectAsync("error");
        Assert.Equal("invalid_field", refused.Str("code"));
    }

    [Fact]
    public async Task Binary_sync_takes_the_same_limit_and_answers_has_more()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        string conversationId;
        await using (var writer = await gateway.ConnectAsync(token))
        {
            conversationId = await SendManyAsync(writer, 12, i => $"m{i}");
        }

        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);
        await client.SendAsync(new Proto.ClientFrame { Sync = new Proto.SyncRequest { ConversationId = Ids.Bytes(conversationId), AfterSeq = 2, Limit = 5 } });
        var frames = await client.ReceiveUntilAsync(Proto.ServerFrame.FrameOneofCase.Synced);
        Assert.Equal([3L, 4L, 5L, 6L, 7L], frames.Where(f => f.FrameCase == Proto.ServerFrame.FrameOneofCase.Message).Select(f => f.Message.Seq));
        var synced = frames[^1].Synced;
        Assert.Equal((12L, 7L, true), (synced.LastSeq, synced.ThroughSeq, synced.HasMore));

        // No limit: the rest, complete.
        await client.SendAsync(new Proto.ClientFrame { Sync = new Proto.SyncRequest { ConversationId = Ids.Bytes(conversationId), AfterSeq = 7 } });
        frames = await client.ReceiveUntilAsync(Proto.ServerFrame.FrameOneofCase.Synced);
        Assert.Equal([8L, 9L, 10L, 11L, 12L], frames.Where(f => f.FrameCase == Proto.ServerFrame.FrameOneofCase.Message).Select(f => f.Message.Seq));
        synced = frames[^1].Synced;
        Assert.Equal((12L, 12L, false), (synced.LastSeq, synced.ThroughSeq, synced.HasMore));
    }

    [Fact]
    public async Task A_complete_sync_says_so_with_or_without_a_limit()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var conversationId = await SendManyAsync(client, 3, i => $"m{i}");
        await client.SendAsync(new { type = "sync", afterSeq = 1 });
        var frames = await client.ReceiveUntilAsync("synced");
        Assert.Equal([2L, 3L], frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
        AssertComplete(frames[^1], conversationId, 3);

        await client.SendAsync(new { type = "sync", afterSeq = 1, limit = 10 });
        frames = await client.ReceiveUntilAsync("synced");
        Assert.Equal([2L, 3L], frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
        AssertComplete(frames[^1], conversationId, 3);

        // Nothing new: throughSeq is the last seq all the same.
        await client.SendAsync(new { type = "sync", conversationId, afterSeq = 3 });
        AssertComplete(await client.ExpectAsync("synced"), conversationId, 3);
    }

    [Fact]
    public async Task Large_messages_make_smaller_limited_pages()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        const int count = 30;
        var conversationId = await SendManyAsync(client, count, i => new string((char)('a' + (i % 26)), 8000));

        await client.SendAsync(new { type = "sync", conversationId, afterSeq = 0, limit = PageSize });
        var frames = await client.ReceiveUntilAsync("synced");
        var first = frames.Where(f => f.Type() == "message").ToList();
        var synced = frames[^1];
        Assert.InRange(first.Count, 1, count - 1);
        Assert.True(synced.GetProperty("hasMore").GetBoolean());
        var pageBytes = first.Sum(m => m.GetRawText().Length);
        Assert.True(pageBytes <= GuardGatewayFixture.SyncByteBudget, $"a page of {pageBytes} bytes");

        var seqs = first.Select(m => m.Long("seq")).ToList();
        while (synced.GetProperty("hasMore").GetBoolean())
        {
            await client.SendAsync(new { type = "sync", conversationId, afterSeq = synced.Long("throughSeq"), limit = PageSize });
            frames = await client.ReceiveUntilAsync("synced");
            seqs.AddRange(frames.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
            synced = frames[^1];
        }

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), seqs);
    }

    [Fact]
    public async Task Live_messages_during_a_plain_sync_are_held_and_written_after_synced_neither_lost_nor_repeated()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        string conversationId;
        const int history = 1000;
        await using (var writer = await gateway.ConnectAsync(visitorToken))
        {
            conversationId = await SendManyAsync(writer, history, i => $"history {i}");
        }

        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");

        await using var reader = await gateway.ConnectAsync(visitorToken);
        const int live = 150;
        const int total = history + live;
        await reader.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });

        // The agent writes once the sync has begun (its first message has arrived), while the rest streams: a live
        // message that came before the sync would rightly come again in the history (§9.3).
        var seqs = new List<long>();
        var frame = await reader.ReceiveAsync();
        while (frame.Type() != "message")
        {
            frame = await reader.ReceiveAsync();
        }

        seqs.Add(frame.Long("seq"));
        var writing = Task.Run(async () =>
        {
            for (var i = 0; i < live; i++)
            {
                await agent.SendMessageAsync($"live {i}", conversationId);
            }
        });

        // Until every message and the synced frame are in: when the writer is quick, the sync's last page already holds
        // the live messages and synced comes after them.
        var syncedAt = -1;
        while (seqs[^1] < total || syncedAt < 0)
        {
            frame = await reader.ReceiveAsync();
            if (frame.Type() == "synced")
            {
                Assert.Equal(-1, syncedAt);
                Assert.False(frame.GetProperty("hasMore").GetBoolean());
                Assert.Equal(frame.Long("lastSeq"), frame.Long("throughSeq"));
                syncedAt = seqs.Count;
            }
            else if (frame.Type() == "message" && frame.Str("conversationId") == conversationId)
            {
                seqs.Add(frame.Long("seq"));
            }
        }

        await writing;
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), seqs);
        Assert.True(syncedAt >= history, $"synced after {syncedAt} messages");
    }

    [Fact]
    public async Task Live_messages_that_arrive_while_a_client_pages_with_a_limit_are_neither_lost_nor_repeated_nor_reordered()
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
            await reader.SendAsync(new { type = "sync", conversationId, afterSeq = through, limit = PageSize });
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

    private static void AssertComplete(JsonElement synced, string conversationId, long lastSeq)
    {
        Assert.Equal("synced", synced.Type());
        Assert.Equal(conversationId, synced.Str("conversationId"));
        Assert.Equal(lastSeq, synced.Long("lastSeq"));
        Assert.Equal(lastSeq, synced.Long("throughSeq"));
        Assert.False(synced.GetProperty("hasMore").GetBoolean());
    }

    /// <summary>The visitor's one open connection here that has run a sync.</summary>
    private ChatConnection SyncingConnection(string visitorId) =>
        Assert.Single(
            gateway.Services.GetRequiredService<ConnectionRegistry>().ByParticipant().SelectMany(c => c),
            c => c.Caller.Id == visitorId && c.SyncPagesQueued > 0);

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
