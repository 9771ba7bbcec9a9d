using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Kefu.Contracts.Messages;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Xunit.Abstractions;

namespace Kefu.Storage.Tests;

/// <summary>MySqlMessageStore against a fresh database per test (deploy/mysql/*.sql applied).</summary>
public sealed class MessageStoreTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Tenant = "acme";

    private readonly MessageStoreDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Every_field_round_trips()
    {
        var store = Store();
        var conversation = NewConversation();
        var ts = Micros(DateTimeOffset.UtcNow);
        var written = new[]
        {
            Message(conversation, 1, "你好，请问有人在吗？🙂👍🏽 家族: 👨‍👩‍👧", new Sender(ParticipantRole.Visitor, "v-01", "访客 Zoë 🚀"), ts, "c-1"),
            Message(conversation, 2, "Hello — how can I help?", new Sender(ParticipantRole.Agent, "alice", null), ts.AddMilliseconds(1), null),
            Message(conversation, 3, "  leading and trailing spaces, \"quotes\", \\backslash\\ and 'apostrophes'\n\ttab\0nul  ", new Sender(ParticipantRole.System, "system", string.Empty), ts.AddMilliseconds(2), new string('k', 64)),
            Message(conversation, 4, string.Empty, new Sender(ParticipantRole.Bot, new string('b', 128), new string('名', 255)), new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.FromHours(8)).AddTicks(1234560), "c-4"),
        };
        foreach (var message in written)
        {
            await store.AppendAsync(Tenant, message);
        }

        var read = await store.ReadAfterAsync(Tenant, conversation, 0, 10);

        Assert.Equal(written, read);
        Assert.All(read, m => Assert.Equal(TimeSpan.Zero, m.Ts.Offset));
        Assert.Equal(written[3].Ts.UtcDateTime, read[3].Ts.UtcDateTime);
    }

    [Fact]
    public async Task Timestamps_keep_microseconds()
    {
        var store = Store();
        var conversation = NewConversation();
        var ts = new DateTimeOffset(2026, 11, 26, 23, 59, 59, TimeSpan.Zero).AddTicks(1_234_567);
        await store.AppendAsync(Tenant, Message(conversation, 1, "x", ts: ts));

        var read = Assert.Single(await store.ReadLatestAsync(Tenant, conversation, 1));

        Assert.Equal(ts.AddTicks(-7), read.Ts);
    }

    [Fact]
    public async Task ReadAfter_pages_in_seq_order_within_tenant_and_conversation()
    {
        var store = Store();
        var conversation = NewConversation();
        var other = NewConversation();
        for (var seq = 1; seq <= 25; seq++)
        {
            await store.AppendAsync(Tenant, Message(conversation, seq, $"m{seq}"));
        }

        await store.AppendAsync(Tenant, Message(other, 1, "elsewhere"));
        await store.AppendAsync("acme-2", Message(conversation, 1, "other tenant, same conversation id"));

        Assert.Equal(Range(1, 10), Seqs(await store.ReadAfterAsync(Tenant, conversation, 0, 10)));
        Assert.Equal(Range(11, 20), Seqs(await store.ReadAfterAsync(Tenant, conversation, 10, 10)));
        Assert.Equal(Range(21, 25), Seqs(await store.ReadAfterAsync(Tenant, conversation, 20, 10)));
        Assert.Empty(await store.ReadAfterAsync(Tenant, conversation, 25, 10));
        Assert.Empty(await store.ReadAfterAsync(Tenant, conversation, 0, 0));
        Assert.Equal(Range(1, 3), Seqs(await store.ReadAfterAsync(Tenant, conversation, -5, 3)));
        Assert.Equal(Range(1, 25), Seqs(await store.ReadAfterAsync(Tenant, conversation, 0, 500)));
        Assert.Equal("m17", (await store.ReadAfterAsync(Tenant, conversation, 16, 1))[0].Text);

        Assert.Equal(["other tenant, same conversation id"], (await store.ReadAfterAsync("acme-2", conversation, 0, 10)).Select(m => m.Text));
        Assert.Empty(await store.ReadAfterAsync("ACME", conversation, 0, 10));
        Assert.Empty(await store.ReadAfterAsync("acme ", conversation, 0, 10));
        Assert.Empty(await store.ReadAfterAsync(Tenant, NewConversation(), 0, 10));
    }

    [Fact]
    public async Task ReadLatest_returns_the_newest_ascending()
    {
        var store = Store();
        var conversation = NewConversation();
        for (var seq = 1; seq <= 25; seq++)
        {
            await store.AppendAsync(Tenant, Message(conversation, seq, $"m{seq}"));
        }

        Assert.Equal(Range(23, 25), Seqs(await store.ReadLatestAsync(Tenant, conversation, 3)));
        Assert.Equal(Range(25, 25), Seqs(await store.ReadLatestAsync(Tenant, conversation, 1)));
        Assert.Equal(Range(1, 25), Seqs(await store.ReadLatestAsync(Tenant, conversation, 25)));
        Assert.Equal(Range(1, 25), Seqs(await store.ReadLatestAsync(Tenant, conversation, 1000)));
        Assert.Empty(await store.ReadLatestAsync(Tenant, conversation, 0));
        Assert.Empty(await store.ReadLatestAsync(Tenant, conversation, -1));
        Assert.Empty(await store.ReadLatestAsync(Tenant, NewConversation(), 10));
        Assert.Empty(await store.ReadLatestAsync("other", conversation, 10));
    }

    [Fact]
    public async Task Bodies_above_the_threshold_are_stored_compressed_and_the_rest_plain()
    {
        var store = Store(o => o.CompressAboveBytes = 1024);
        var conversation = NewConversation();
        var large = string.Concat(Enumerable.Repeat("客服消息 customer message 🙂 ", 100));
        var atThreshold = new string('a', 1024);
        var small = "短消息 short 👋";
        await store.AppendAsync(Tenant, Message(conversation, 1, large));
        await store.AppendAsync(Tenant, Message(conversation, 2, atThreshold));
        await store.AppendAsync(Tenant, Message(conversation, 3, small));

        var rows = await RawRowsAsync(conversation);

        Assert.Equal(MySqlMessageStore.CodecBrotli, rows[1].Codec);
        Assert.Equal(Encoding.UTF8.GetByteCount(large), rows[1].Size);
        Assert.True(rows[1].Body.Length < Encoding.UTF8.GetByteCount(large) / 4, $"compressed to {rows[1].Body.Length} bytes");
        Assert.Equal(MySqlMessageStore.CodecUtf8, rows[2].Codec);
        Assert.Equal(Encoding.UTF8.GetBytes(atThreshold), rows[2].Body);
        Assert.Equal(MySqlMessageStore.CodecUtf8, rows[3].Codec);
        Assert.Equal(Encoding.UTF8.GetBytes(small), rows[3].Body);
        Assert.Equal(rows[3].Body.Length, rows[3].Size);
        Assert.Equal([large, atThreshold, small], (await store.ReadAfterAsync(Tenant, conversation, 0, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task Largest_text_the_grains_accept_round_trips_compressed_or_not()
    {
        var store = Store();
        var conversation = NewConversation();
        var random = new Random(7);
        var incompressible = string.Concat(Enumerable.Range(0, 65_536).Select(_ => (char)random.Next(0x4E00, 0x9FA5)));
        await store.AppendAsync(Tenant, Message(conversation, 1, incompressible));
        await store.AppendAsync(Tenant, Message(conversation, 2, new string('字', 65_536)));

        var read = await store.ReadAfterAsync(Tenant, conversation, 0, 10);

        Assert.Equal(incompressible, read[0].Text);
        Assert.Equal(new string('字', 65_536), read[1].Text);
    }

    [Fact]
    public async Task Duplicates_fail_only_their_own_append_and_the_rest_of_the_batch_commits()
    {
        var store = Store(o => o.Writers = 1);
        var taken = NewConversation();
        var original = Message(taken, 1, "original", clientMsgId: "retry-me");
        await store.AppendAsync(Tenant, original);
        var batchesBefore = store.BatchesWritten;

        await using var tableLock = await LockTableAsync();
        var blocker = store.AppendAsync(Tenant, Message(NewConversation(), 1, "blocks the writer")).AsTask();
        await UntilInsertIsWaitingAsync();

        var others = Enumerable.Range(0, 40).Select(_ => Message(NewConversation(), 1, "fine")).ToList();
        var appends = others.Take(20).Select(m => store.AppendAsync(Tenant, m).AsTask()).ToList();
        var seqConflict = store.AppendAsync(Tenant, Message(taken, 1, "same seq")).AsTask();
        var clientRetry = store.AppendAsync(Tenant, Message(taken, 2, "retried after the window", clientMsgId: "retry-me")).AsTask();
        appends.AddRange(others.Skip(20).Select(m => store.AppendAsync(Tenant, m).AsTask()));
        await UnlockAsync(tableLock);

        await blocker;
        await Task.WhenAll(appends);
        await Assert.ThrowsAsync<MessageStoreConflictException>(() => seqConflict);
        var duplicate = await Assert.ThrowsAsync<DuplicateClientMessageException>(() => clientRetry);

        Assert.Equal(original, duplicate.Existing);
        Assert.Equal(2, store.BatchesWritten - batchesBefore); // the blocker, then all 42 together (one by one after the conflict)
        Assert.Equal(42, await CountAsync()); // original, blocker, 40 others
        Assert.Equal([original], await store.ReadAfterAsync(Tenant, taken, 0, 10));
        foreach (var message in others)
        {
            Assert.Equal([message], await store.ReadLatestAsync(Tenant, message.ConversationId, 5));
        }
    }

    [Fact]
    public async Task A_single_duplicate_seq_fails_with_a_conflict()
    {
        var store = Store();
        var conversation = NewConversation();
        await store.AppendAsync(Tenant, Message(conversation, 1, "first"));

        await Assert.ThrowsAsync<MessageStoreConflictException>(async () => await store.AppendAsync(Tenant, Message(conversation, 1, "again")));

        await store.AppendAsync(Tenant, Message(conversation, 2, "second"));
        Assert.Equal(["first", "second"], (await store.ReadAfterAsync(Tenant, conversation, 0, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task Messages_without_client_ids_never_collide()
    {
        var store = Store();
        var conversation = NewConversation();
        for (var seq = 1; seq <= 5; seq++)
        {
            await store.AppendAsync(Tenant, Message(conversation, seq, "no client id", clientMsgId: null));
        }

        await store.AppendAsync(Tenant, Message(conversation, 6, "same client id, other sender", new Sender(ParticipantRole.Agent, "v-01", null), clientMsgId: "c"));
        await store.AppendAsync(Tenant, Message(conversation, 7, "same client id, this sender", clientMsgId: "c"));

        Assert.Equal(Range(1, 7), Seqs(await store.ReadAfterAsync(Tenant, conversation, 0, 10)));
    }

    [Fact]
    public async Task Concurrent_conversations_each_land_exactly_once_in_order_in_few_batches()
    {
        const int conversations = 200;
        const int perConversation = 50;
        var store = Store();
        var ids = Enumerable.Range(0, conversations).Select(_ => NewConversation()).ToArray();

        // Like conversation grains: each conversation appends sequentially, all conversations at once.
        await Task.WhenAll(ids.Select(id => Task.Run(async () =>
        {
            for (var seq = 1; seq <= perConversation; seq++)
            {
                await store.AppendAsync(Tenant, Message(id, seq, $"{id}:{seq}"));
            }
        })));

        output.WriteLine($"{store.AppendsWritten} appends in {store.BatchesWritten} batches");
        Assert.Equal(conversations * perConversation, store.AppendsWritten);
        Assert.True(store.BatchesWritten < store.AppendsWritten / 4, $"{store.BatchesWritten} batches for {store.AppendsWritten} appends");
        Assert.Equal(conversations * perConversation, await CountAsync());
        foreach (var id in ids)
        {
            var messages = await store.ReadAfterAsync(Tenant, id, 0, 100);
            Assert.Equal(Range(1, perConversation), Seqs(messages));
            Assert.Equal(Range(1, perConversation).Select(s => $"{id}:{s}"), messages.Select(m => m.Text));
        }
    }

    [Fact]
    public async Task Appends_queued_behind_a_busy_writer_go_out_as_one_batch()
    {
        var store = Store(o => o.Writers = 1);
        await using var tableLock = await LockTableAsync();
        var blocker = store.AppendAsync(Tenant, Message(NewConversation(), 1, "blocks the writer")).AsTask();
        await UntilInsertIsWaitingAsync();
        var queued = Enumerable.Range(0, 100).Select(_ => store.AppendAsync(Tenant, Message(NewConversation(), 1, "queued")).AsTask()).ToList();
        await UnlockAsync(tableLock);

        await blocker;
        await Task.WhenAll(queued);

        Assert.Equal(2, store.BatchesWritten);
        Assert.Equal(101, store.AppendsWritten);
    }

    [Fact]
    public async Task The_table_is_partitioned_by_conversation_month()
    {
        var store = Store();
        var march = Ulid.NewUlid(new DateTimeOffset(2026, 3, 15, 12, 0, 0, TimeSpan.Zero)).ToString();
        var lastInstantOfMarch = Ulid.NewUlid(new DateTimeOffset(2026, 3, 31, 23, 59, 59, 999, TimeSpan.Zero)).ToString();
        var firstInstantOfApril = Ulid.NewUlid(new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)).ToString();
        var old = Ulid.NewUlid(new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero)).ToString();
        var future = Ulid.NewUlid(new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero)).ToString();
        foreach (var id in new[] { march, lastInstantOfMarch, firstInstantOfApril, old, future })
        {
            await store.AppendAsync(Tenant, Message(id, 1, "hello"));
            await store.AppendAsync(Tenant, Message(id, 2, "again"));
        }

        var partitions = await PartitionsAsync();

        Assert.True(partitions.Count > 1);
        Assert.Equal("pmax", partitions[^1].Name);
        Assert.Equal("p202603", await PartitionOfAsync(march));
        Assert.Equal("p202603", await PartitionOfAsync(lastInstantOfMarch));
        Assert.Equal("p202604", await PartitionOfAsync(firstInstantOfApril));
        Assert.Equal("p_history", await PartitionOfAsync(old));
        Assert.Equal("pmax", await PartitionOfAsync(future));
        Assert.Equal("p202603", await PrunedPartitionsAsync(march));
        Assert.Equal(Range(1, 2), Seqs(await store.ReadAfterAsync(Tenant, march, 0, 10)));
    }

    [Fact]
    public async Task Partition_bounds_match_their_month_names()
    {
        var partitions = await PartitionsAsync();

        var months = partitions.Where(p => p.Name.Length == 7 && p.Name[0] == 'p').ToList();
        Assert.Equal(24, months.Count);
        foreach (var (name, description) in months)
        {
            var month = DateTime.ParseExact(name[1..], "yyyyMM", CultureInfo.InvariantCulture);
            Assert.Equal("_binary 0x" + MySqlMessageStore.MonthBound(month.AddMonths(1)).ToLowerInvariant(), description);
        }

        Assert.Equal("_binary 0x" + MySqlMessageStore.MonthBound(new DateTime(2026, 1, 1)).ToLowerInvariant(), partitions[0].Description);
    }

    [Fact]
    public async Task EnsurePartitions_splits_pmax_ahead_and_moves_rows_already_there()
    {
        var store = Store();
        var february2028 = Ulid.NewUlid(new DateTimeOffset(2028, 2, 10, 0, 0, 0, TimeSpan.Zero)).ToString();
        await store.AppendAsync(Tenant, Message(february2028, 1, "early"));
        Assert.Equal("pmax", await PartitionOfAsync(february2028));

        Assert.Equal(3, await store.EnsurePartitionsAsync(new DateTimeOffset(2028, 3, 31, 23, 0, 0, TimeSpan.Zero)));
        Assert.Equal(0, await store.EnsurePartitionsAsync(new DateTimeOffset(2028, 3, 1, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(0, await store.EnsurePartitionsAsync(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)));

        var names = (await PartitionsAsync()).Select(p => p.Name).ToList();
        Assert.Equal(["p202712", "p202801", "p202802", "p202803", "pmax"], names[^5..]);
        Assert.Equal("p202802", await PartitionOfAsync(february2028));
        await store.AppendAsync(Tenant, Message(february2028, 2, "later"));
        Assert.Equal(["early", "later"], (await store.ReadAfterAsync(Tenant, february2028, 0, 10)).Select(m => m.Text));
        Assert.Equal("p202802", await PrunedPartitionsAsync(february2028));
    }

    [Fact]
    public async Task Appends_fail_while_the_table_is_gone_and_succeed_once_it_is_back()
    {
        var store = Store();
        var conversation = NewConversation();
        await store.AppendAsync(Tenant, Message(conversation, 1, "before"));
        await ExecuteAsync("RENAME TABLE kefu_message TO kefu_message_away");

        var error = await Assert.ThrowsAsync<MySqlException>(async () => await store.AppendAsync(Tenant, Message(conversation, 2, "while gone")));
        Assert.Equal(MySqlErrorCode.NoSuchTable, error.ErrorCode);
        await Assert.ThrowsAsync<MySqlException>(async () => await store.ReadLatestAsync(Tenant, conversation, 10));

        await ExecuteAsync("RENAME TABLE kefu_message_away TO kefu_message");
        Assert.Equal(["before"], (await store.ReadLatestAsync(Tenant, conversation, 10)).Select(m => m.Text));
        await store.AppendAsync(Tenant, Message(conversation, 2, "after"));
        Assert.Equal(["before", "after"], (await store.ReadLatestAsync(Tenant, conversation, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task Appends_fault_when_the_server_is_unreachable()
    {
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var connectionString = new MySqlConnectionStringBuilder(_db.ConnectionString) { Port = (uint)port, ConnectionTimeout = 2 }.ConnectionString;
        var store = Store(o => o.ConnectionString = connectionString);
        var conversation = NewConversation();

        var appends = Enumerable.Range(1, 5).Select(seq => store.AppendAsync(Tenant, Message(NewConversation(), 1, "lost")).AsTask()).ToList();

        foreach (var append in appends)
        {
            await Assert.ThrowsAsync<MySqlException>(() => append);
        }

        await Assert.ThrowsAsync<MySqlException>(async () => await store.ReadAfterAsync(Tenant, conversation, 0, 10));
        Assert.Equal(0, store.AppendsWritten);
    }

    [Fact]
    public async Task The_store_recovers_after_connections_are_cut_and_the_server_comes_back()
    {
        await using var proxy = TcpProxy.Start(new MySqlConnectionStringBuilder(_db.ConnectionString).Port);
        var connectionString = new MySqlConnectionStringBuilder(_db.ConnectionString) { Port = (uint)proxy.Port, ConnectionTimeout = 2 }.ConnectionString;
        var store = Store(o => o.ConnectionString = connectionString);
        var conversation = NewConversation();
        await store.AppendAsync(Tenant, Message(conversation, 1, "before"));
        Assert.Single(await store.ReadLatestAsync(Tenant, conversation, 10)); // a pooled connection now exists

        proxy.Stop();
        await Assert.ThrowsAsync<MySqlException>(async () => await store.AppendAsync(Tenant, Message(conversation, 2, "while down")));
        Assert.Equal(1, await CountAsync());

        proxy.Restart();
        await store.AppendAsync(Tenant, Message(conversation, 2, "after"));
        Assert.Equal(["before", "after"], (await store.ReadLatestAsync(Tenant, conversation, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task Canceling_a_queued_append_means_it_is_not_written()
    {
        var store = Store(o => o.Writers = 1);
        await using var tableLock = await LockTableAsync();
        var blocker = store.AppendAsync(Tenant, Message(NewConversation(), 1, "blocks the writer")).AsTask();
        await UntilInsertIsWaitingAsync();
        using var cancel = new CancellationTokenSource();
        var canceled = Message(NewConversation(), 1, "never");
        var append = store.AppendAsync(Tenant, canceled, cancel.Token).AsTask();
        var kept = store.AppendAsync(Tenant, Message(NewConversation(), 1, "kept")).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => append);
        await UnlockAsync(tableLock);

        await blocker;
        await kept;
        Assert.Empty(await store.ReadLatestAsync(Tenant, canceled.ConversationId, 10));
        Assert.Equal(2, await CountAsync());
        Assert.Equal(2, store.AppendsWritten);
    }

    [Fact]
    public async Task Dispose_writes_what_is_queued_then_refuses_appends()
    {
        var store = new MySqlMessageStore(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString, Writers = 1 }), NullLogger<MySqlMessageStore>.Instance);
        await using var tableLock = await LockTableAsync();
        var blocker = store.AppendAsync(Tenant, Message(NewConversation(), 1, "blocks the writer")).AsTask();
        await UntilInsertIsWaitingAsync();
        var queued = Enumerable.Range(0, 10).Select(_ => store.AppendAsync(Tenant, Message(NewConversation(), 1, "queued")).AsTask()).ToList();

        var disposing = store.DisposeAsync().AsTask();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AppendAsync(Tenant, Message(NewConversation(), 1, "late")));
        Assert.False(disposing.IsCompleted);
        await UnlockAsync(tableLock);
        await disposing;

        await blocker;
        await Task.WhenAll(queued);
        Assert.Equal(11, await CountAsync());
    }

    [Fact]
    public async Task Invalid_appends_fail_alone_without_reaching_the_database()
    {
        var store = Store();
        var conversation = NewConversation();

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AppendAsync(Tenant, Message(conversation.ToLowerInvariant(), 1, "x")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AppendAsync(Tenant, Message("not-a-ulid", 1, "x")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AppendAsync(new string('t', 65), Message(conversation, 1, "x")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AppendAsync(Tenant, Message(conversation, 1, "x", clientMsgId: new string('c', 65))));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.AppendAsync(Tenant, Message(conversation, 0, "x")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.ReadLatestAsync(Tenant, conversation.ToLowerInvariant(), 10));

        Assert.Equal(0, store.BatchesWritten);
        await store.AppendAsync(Tenant, Message(conversation, 1, "valid"));
        Assert.Equal(1, await CountAsync());
    }

    private static string NewConversation() => Ulid.NewUlid().ToString();

    private static DateTimeOffset Micros(DateTimeOffset value) => value.AddTicks(-(value.UtcTicks % 10));

    private static ChatMessage Message(string conversation, long seq, string text, Sender? sender = null, DateTimeOffset? ts = null, string? clientMsgId = "auto")
    {
        var at = ts ?? Micros(DateTimeOffset.UtcNow);
        return new ChatMessage(conversation, Ulid.NewUlid(at), seq, sender ?? new Sender(ParticipantRole.Visitor, "v-01", "Visitor"), text, at,
            clientMsgId == "auto" ? $"c-{Guid.NewGuid():N}" : clientMsgId);
    }

    private static long[] Range(long from, long to) => [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i)];

    private static long[] Seqs(IEnumerable<ChatMessage> messages) => [.. messages.Select(m => m.Seq)];

    private static byte[] Bytes(string conversation) => Ulid.Parse(conversation).ToByteArray();

    private MySqlMessageStore Store(Action<MySqlMessageStoreOptions>? configure = null) => _db.Store(configure);

    private Task<MySqlConnection> OpenAsync() => _db.OpenAsync();

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM kefu_message", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private async Task<Dictionary<long, (byte Codec, long Size, byte[] Body)>> RawRowsAsync(string conversation)
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand("SELECT seq, body_codec, body_size, body FROM kefu_message WHERE conversation_id = @c", connection);
        command.Parameters.AddWithValue("@c", Bytes(conversation));
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<long, (byte, long, byte[])>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetInt64(0)] = (reader.GetByte(1), reader.GetInt64(2), reader.GetFieldValue<byte[]>(3));
        }

        return rows;
    }

    private async Task<List<(string Name, string Description)>> PartitionsAsync()
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand(
            "SELECT PARTITION_NAME, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS " +
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kefu_message' ORDER BY PARTITION_ORDINAL_POSITION", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var partitions = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            partitions.Add((reader.GetString(0), reader.GetString(1)));
        }

        return partitions;
    }

    /// <summary>The one partition that holds the conversation's rows, by counting each partition's rows.</summary>
    private async Task<string> PartitionOfAsync(string conversation)
    {
        var holding = new List<string>();
        await using var connection = await OpenAsync();
        foreach (var (name, _) in await PartitionsAsync())
        {
            await using var command = new MySqlCommand($"SELECT COUNT(*) FROM kefu_message PARTITION (`{name}`) WHERE conversation_id = @c", connection);
            command.Parameters.AddWithValue("@c", Bytes(conversation));
            if (Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) > 0)
            {
                holding.Add(name);
            }
        }

        return Assert.Single(holding);
    }

    /// <summary>The partitions the optimizer reads for the store's history query.</summary>
    private async Task<string> PrunedPartitionsAsync(string conversation)
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand(
            "EXPLAIN PARTITIONS SELECT seq FROM kefu_message WHERE tenant = @t AND conversation_id = @c AND seq > 0 ORDER BY seq LIMIT 10", connection);
        command.Parameters.AddWithValue("@t", Tenant);
        command.Parameters.AddWithValue("@c", Bytes(conversation));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return reader.GetString(reader.GetOrdinal("partitions"));
    }

    private Task<MySqlConnection> LockTableAsync() => _db.LockTableAsync();

    private static Task UnlockAsync(MySqlConnection connection) => MessageStoreDatabase.UnlockAsync(connection);

    private Task UntilInsertIsWaitingAsync() => _db.UntilInsertIsWaitingAsync();

    /// <summary>A TCP relay to the test server that can drop every connection and refuse new ones, then come back.</summary>
    private sealed class TcpProxy : IAsyncDisposable
    {
        private readonly int _targetPort;
        private readonly List<TcpClient> _connections = [];
        private TcpListener _listener;
        private Task _accepting = Task.CompletedTask;

        private TcpProxy(int targetPort)
        {
            _targetPort = targetPort;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            Listen();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        }

        public int Port { get; }

        public static TcpProxy Start(uint targetPort) => new((int)targetPort);

        /// <summary>Closes the listener and every relayed connection, like a server going away.</summary>
        public void Stop()
        {
            _listener.Stop();
            lock (_connections)
            {
                foreach (var connection in _connections)
                {
                    connection.Dispose();
                }

                _connections.Clear();
            }
        }

        public void Restart()
        {
            _listener = new TcpListener(IPAddress.Loopback, Port);
            Listen();
        }

        public async ValueTask DisposeAsync()
        {
            Stop();
            await _accepting;
        }

        private void Listen()
        {
            _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _listener.Start();
            var listener = _listener;
            _accepting = Task.Run(() => AcceptAsync(listener));
        }

        private async Task AcceptAsync(TcpListener listener)
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    return;
                }

                var upstream = new TcpClient();
                try
                {
                    await upstream.ConnectAsync(IPAddress.Loopback, _targetPort);
                }
                catch (SocketException)
                {
                    client.Dispose();
                    upstream.Dispose();
                    continue;
                }

                lock (_connections)
                {
                    _connections.Add(client);
                    _connections.Add(upstream);
                }

                _ = RelayAsync(client, upstream);
                _ = RelayAsync(upstream, client);
            }
        }

        private static async Task RelayAsync(TcpClient from, TcpClient to)
        {
            try
            {
                await from.GetStream().CopyToAsync(to.GetStream());
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
            {
                // The other direction or Stop() closed the pair.
            }
            finally
            {
                from.Dispose();
                to.Dispose();
            }
        }
    }
}
