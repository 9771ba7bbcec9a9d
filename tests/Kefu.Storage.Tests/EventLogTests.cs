using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests;

/// <summary>MySqlEventLog (deploy/mysql/006-events.sql) and the events MySqlMessageStore commits with a message.</summary>
public sealed class EventLogTests : IAsyncLifetime
{
    private const string Tenant = "acme";

    private readonly MessageStoreDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Events_round_trip_with_cursors_in_list_order()
    {
        var log = Log();
        var conversation = Ulid.NewUlid().ToString();
        var time = Micros(DateTimeOffset.UtcNow);
        var message = new ChatMessage(conversation, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v-1", "访客 Zoë"), "你好 \"quoted\"", time, "c-1");
        var created = new DomainEvent(Ulid.NewUlid(), Tenant, conversation, 1, time, new Causation(Causation.Visitor, "v-1", "访客 Zoë"), new MessageCreated(message));
        var contact = new DomainEvent(Ulid.NewUlid(), Tenant, null, 0, time.AddTicks(17), Causation.Of("crm"),
            new ContactChanged(true, "c-9", "ext-9", "Ann", null, new() { ["plan"] = "gold" }));

        await Store().AppendAsync(Tenant, message); // a message.created event's data is its message's row
        await log.AppendAsync([created, contact]);
        var page = await log.ReadAsync(Tenant, 0, null, 10);

        Assert.False(page.CursorExpired);
        Assert.Equal(2, page.Events.Length);
        var (first, second) = (page.Events[0], page.Events[1]);
        Assert.True(first.Cursor > 0 && second.Cursor == first.Cursor + 1, $"{first.Cursor}, {second.Cursor}");
        Assert.Equal(second.Cursor, page.Next);
        Assert.Equal((created.Id, EventTypes.MessageCreated, Tenant, conversation, 1L, time, created.Causation),
            (first.Id, first.Type, first.Tenant, first.ConversationId, first.Seq, first.Time, first.Causation));
        Assert.Equal(EventJson.Data(created.Data), first.DataJson);
        Assert.Contains("你好 \\\"quoted\\\"", first.DataJson, StringComparison.Ordinal); // UTF-8, not \u escapes: half the bytes for CJK text
        Assert.Equal("你好 \"quoted\"", JsonDocument.Parse(first.DataJson).RootElement.GetProperty("message").GetProperty("text").GetString());
        Assert.Equal((contact.Id, EventTypes.ContactCreated, (string?)null, time.AddTicks(10), Causation.Of("crm")),
            (second.Id, second.Type, second.ConversationId, second.Time, second.Causation));
    }

    [Fact]
    public async Task A_message_event_keeps_no_second_copy_of_the_message_and_reads_back_from_its_row()
    {
        var store = Store();
        var log = Log();
        var conversation = Ulid.NewUlid().ToString();
        var message = new ChatMessage(conversation, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Agent, "a-1", "Agent Li"), "订单已发货", Micros(DateTimeOffset.UtcNow), "c-1");
        var created = new DomainEvent(Ulid.NewUlid(), Tenant, conversation, 1, message.Ts, new Causation(Causation.Agent, "a-1", "Agent Li"), new MessageCreated(message));
        var other = Ulid.NewUlid().ToString();
        var otherMessage = Message(other, 7);
        var otherCreated = new DomainEvent(Ulid.NewUlid(), Tenant, other, 9, otherMessage.Ts, Causation.Of(Causation.Visitor), new MessageCreated(otherMessage));

        await store.AppendAsync(Tenant, message, [created]);
        await store.AppendAsync(Tenant, otherMessage, [otherCreated]);

        await using (var connection = await OpenAsync())
        await using (var query = new MySqlCommand("SELECT data IS NULL, message_seq FROM kefu_event WHERE conversation_id = @c", connection))
        {
            query.Parameters.AddWithValue("@c", conversation);
            await using var reader = await query.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal((1L, 1L), (reader.GetInt64(0), reader.GetInt64(1)));
        }

        var events = (await log.ReadAsync(Tenant, 0, null, 10)).Events;
        Assert.Equal([EventJson.Data(created.Data), EventJson.Data(otherCreated.Data)], events.Select(e => e.DataJson));

        // A message that is gone (erased) leaves its event readable, saying so.
        await ExecuteAsync($"DELETE FROM kefu_message WHERE seq = 7 AND conversation_id = 0x{Convert.ToHexString(Ulid.Parse(other).ToByteArray())}");
        var after = (await log.ReadAsync(Tenant, 0, null, 10)).Events;
        Assert.Equal(EventJson.Data(created.Data), after[0].DataJson);
        Assert.Equal("{\"message\":null,\"messageSeq\":7}", after[1].DataJson);
    }

    [Fact]
    public async Task A_writer_whose_connection_the_server_closed_writes_again_on_a_new_one()
    {
        var store = Store(o => o.Writers = 1);
        var conversation = Ulid.NewUlid().ToString();
        await store.AppendAsync(Tenant, Message(conversation, 1), [Event(conversation, 1)]);

        // The writer keeps its connection between batches: kill it, as a server restart or an idle timeout would.
        await using (var connection = await OpenAsync())
        {
            var killed = 0;
            await using var list = new MySqlCommand(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()", connection);
            var ids = new List<long>();
            await using (var reader = await list.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetInt64(0));
                }
            }

            foreach (var id in ids)
            {
                await using var kill = new MySqlCommand($"KILL CONNECTION {id}", connection);
                killed += await kill.ExecuteNonQueryAsync() >= 0 ? 1 : 0;
            }

            Assert.True(killed > 0);
        }

        // The batch on the dead connection may fail (its caller is told); the one after it is written on a new connection.
        try
        {
            await store.AppendAsync(Tenant, Message(conversation, 2), [Event(conversation, 2)]);
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException)
        {
            await store.AppendAsync(Tenant, Message(conversation, 2), [Event(conversation, 2)]);
        }

        await store.AppendAsync(Tenant, Message(conversation, 3), [Event(conversation, 3)]);
        Assert.Equal([1L, 2L, 3L], (await store.ReadAfterAsync(Tenant, conversation, 0, 10)).Select(m => m.Seq));
    }

    [Fact]
    public async Task Append_is_idempotent_by_event_id()
    {
        var log = Log();
        var a = Event("c-a", 1);
        var b = Event("c-a", 2);
        await log.AppendAsync([a, b]);
        await log.AppendAsync([a, b]); // a relay that ran again
        var c = Event("c-a", 3);
        await log.AppendAsync([b, c, c]); // a retried batch with one new event, that event twice

        var events = (await log.ReadAsync(Tenant, 0, null, 100)).Events;

        Assert.Equal([a.Id, b.Id, c.Id], events.Select(e => e.Id));
        Assert.True(events[2].Cursor > events[1].Cursor); // skipped duplicates may leave gaps, never disorder
    }

    [Fact]
    public async Task Pages_continue_from_next_and_tenants_are_apart()
    {
        var log = Log();
        var written = Enumerable.Range(1, 25).Select(i => Event("c-p", i)).ToList();
        await log.AppendAsync(written);
        await log.AppendAsync([Event("c-other", 1) with { Tenant = "acme-2" }]);

        var seen = new List<StoredEvent>();
        var after = 0L;
        var pages = 0;
        while (true)
        {
            var page = await log.ReadAsync(Tenant, after, null, 10);
            pages++;
            seen.AddRange(page.Events);
            Assert.True(page.Next >= after);
            if (page.Events.Length == 0)
            {
                Assert.Equal(after, page.Next);
                break;
            }

            after = page.Next;
        }

        Assert.Equal(4, pages); // 10, 10, 5, then an empty page at the head
        Assert.Equal(written.Select(e => e.Id), seen.Select(e => e.Id));
        Assert.Single((await log.ReadAsync("acme-2", 0, null, 10)).Events);
        Assert.Empty((await log.ReadAsync("ACME", 0, null, 10)).Events);
        Assert.Empty((await log.ReadAsync("nobody", 0, null, 10)).Events);

        // A cursor past the head: nothing, and the consumer stays where it is.
        var beyond = await log.ReadAsync(Tenant, after + 1000, null, 10);
        Assert.Empty(beyond.Events);
        Assert.Equal(after + 1000, beyond.Next);
    }

    [Fact]
    public async Task Types_filter_and_notes_only_when_asked_for()
    {
        var log = Log();
        var note = Note("c-t");
        var events = new List<DomainEvent> { Event("c-t", 1), note, Event("c-t", 2), Status("c-t", 3), Event("c-t", 4) };
        await log.AppendAsync(events);

        var all = await log.ReadAsync(Tenant, 0, null, 100);
        Assert.Equal(4, all.Events.Length);
        Assert.DoesNotContain(all.Events, e => e.Type == EventTypes.NoteCreated);

        var notes = await log.ReadAsync(Tenant, 0, [EventTypes.NoteCreated], 100);
        Assert.Equal([note.Id], notes.Events.Select(e => e.Id));
        Assert.Equal(all.Next, notes.Next); // it examined everything up to the head: continue from there

        var statusAndNotes = await log.ReadAsync(Tenant, 0, [EventTypes.ConversationStatusChanged, EventTypes.NoteCreated], 100);
        Assert.Equal([EventTypes.NoteCreated, EventTypes.ConversationStatusChanged], statusAndNotes.Events.Select(e => e.Type));

        var firstMessage = await log.ReadAsync(Tenant, 0, [EventTypes.MessageCreated], 1);
        var rest = await log.ReadAsync(Tenant, firstMessage.Next, [EventTypes.MessageCreated], 10);
        Assert.Equal(events.Where(e => e.Type == EventTypes.MessageCreated).Select(e => e.Id), firstMessage.Events.Concat(rest.Events).Select(e => e.Id));
        Assert.Empty((await log.ReadAsync(Tenant, 0, [EventTypes.ContactCreated], 10)).Events);
    }

    [Fact]
    public async Task Concurrent_appenders_of_one_tenant_get_increasing_cursors_visible_in_order()
    {
        var log = Log();
        var store = Store();
        const int Appenders = 8;
        const int Calls = 25;
        var appended = new ConcurrentBag<Ulid[]>();
        using var done = new CancellationTokenSource();

        // A consumer tails the log the way an integration does: always after the last `next`. If a transaction could
        // commit a smaller cursor after a larger one was visible, the consumer would skip its events for good.
        var tail = Task.Run(async () =>
        {
            var seen = new List<StoredEvent>();
            var after = 0L;
            var finished = false;
            while (true)
            {
                var page = await log.ReadAsync(Tenant, after, null, 7);
                seen.AddRange(page.Events);
                after = page.Next;
                if (page.Events.Length == 0)
                {
                    if (finished)
                    {
                        return seen;
                    }

                    finished = done.IsCancellationRequested;
                }
            }
        });

        var writers = Enumerable.Range(0, Appenders).Select(w => Task.Run(async () =>
        {
            var conversation = Ulid.NewUlid().ToString();
            for (var call = 1; call <= Calls; call++)
            {
                var batch = Enumerable.Range(0, 1 + (call % 3)).Select(i => Event(conversation, (call * 10) + i)).ToList();
                if (w % 2 == 0)
                {
                    await log.AppendAsync(batch); // lifecycle relays
                }
                else
                {
                    // Message appends through the group commit, their events in the message's transaction.
                    var message = new ChatMessage(conversation, Ulid.NewUlid(), call, new Sender(ParticipantRole.Visitor, "v", null), $"m{call}", Micros(DateTimeOffset.UtcNow), null);
                    await store.AppendAsync(Tenant, message, batch);
                }

                appended.Add([.. batch.Select(e => e.Id)]);
            }
        })).ToList();
        await Task.WhenAll(writers);
        await done.CancelAsync();
        var tailed = await tail.WaitAsync(Wait.Patience);

        var stored = (await log.ReadAsync(Tenant, 0, null, 500)).Events;
        Assert.Equal(appended.Sum(b => b.Length), stored.Length);
        Assert.True(stored.Zip(stored.Skip(1)).All(p => p.First.Cursor < p.Second.Cursor), "cursors strictly increase");
        Assert.Equal(stored.Select(e => e.Id), tailed.Select(e => e.Id)); // the tailing consumer missed nothing
        var cursorOf = stored.ToDictionary(e => e.Id, e => e.Cursor);
        Assert.All(appended, batch => Assert.True(batch.Zip(batch.Skip(1)).All(p => cursorOf[p.First] < cursorOf[p.Second]), "a call's events in list order"));
    }

    [Fact]
    public async Task Retention_prunes_old_events_in_chunks_and_readers_behind_it_learn_their_cursor_expired()
    {
        var log = Log(o =>
        {
            o.Retention = TimeSpan.FromDays(30);
            o.PruneChunk = 3;
            o.PrunePause = TimeSpan.Zero;
        });
        var old = DateTimeOffset.UtcNow.AddDays(-31);
        var stale = Enumerable.Range(1, 7).Select(i => Event("c-r", i, old)).ToList();
        var fresh = Enumerable.Range(8, 3).Select(i => Event("c-r", i)).ToList();
        var lateOld = Event("c-r", 11, old); // an old event behind a young one: pruning keeps to a prefix of cursors
        await log.AppendAsync([.. stale, .. fresh, lateOld]);
        await log.AppendAsync([Event("c-x", 1, old) with { Tenant = "acme-2" }]);
        var before = (await log.ReadAsync(Tenant, 0, null, 100)).Events;

        Assert.Equal(8, await log.PruneAsync());

        var lastPruned = before[6].Cursor;
        var expired = await log.ReadAsync(Tenant, before[2].Cursor, null, 100);
        Assert.True(expired.CursorExpired);
        var fromOldest = await log.ReadAsync(Tenant, 0, null, 100);
        Assert.True(fromOldest.CursorExpired); // a reader that never asked cannot be told apart here: the API decides
        Assert.Equal([.. fresh.Select(e => e.Id), lateOld.Id], fromOldest.Events.Select(e => e.Id));
        var current = await log.ReadAsync(Tenant, lastPruned, null, 100);
        Assert.False(current.CursorExpired);
        Assert.Equal(4, current.Events.Length);
        Assert.Empty((await log.ReadAsync("acme-2", 0, null, 10)).Events);
        Assert.Equal(0, await log.PruneAsync()); // nothing more until the young ones age
    }

    [Fact]
    public async Task A_filtered_read_scans_a_bounded_window_from_the_oldest_retained_cursor()
    {
        var log = Log();
        var first = Event("c-w", 1);
        await log.AppendAsync([first]);

        // Far apart cursors, as after months of traffic of other types (cursors may have gaps; the scan is bounded).
        await ExecuteAsync($"UPDATE kefu_event_counter SET last = last + {MySqlEventLog.ScanWindow + 50_000} WHERE tenant = '{Tenant}'");
        var contact = new DomainEvent(Ulid.NewUlid(), Tenant, null, 0, DateTimeOffset.UtcNow, Causation.Of("crm"), new ContactChanged(false, "c-1", null, null, null, null));
        await log.AppendAsync([contact]);

        var window = await log.ReadAsync(Tenant, 0, [EventTypes.ContactUpdated], 10);
        Assert.Empty(window.Events);
        Assert.Equal(MySqlEventLog.ScanWindow, window.Next);
        var found = await log.ReadAsync(Tenant, window.Next, [EventTypes.ContactUpdated], 10);
        Assert.Equal([contact.Id], found.Events.Select(e => e.Id));

        // After retention pruned everything up to far beyond the window, reading from the start finds the oldest retained at once.
        await ExecuteAsync($"INSERT INTO kefu_event_pruned (tenant, pruned_through) VALUES ('{Tenant}', {MySqlEventLog.ScanWindow + 10})");
        await ExecuteAsync($"DELETE FROM kefu_event WHERE event_id = 0x{Convert.ToHexString(first.Id.ToByteArray())}");
        var fromStart = await log.ReadAsync(Tenant, 0, null, 10);
        Assert.Equal([contact.Id], fromStart.Events.Select(e => e.Id));
        Assert.True(fromStart.CursorExpired);
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(10, 0)]
    public async Task Retention_settings_that_cannot_work_stop_the_start(int intervalMinutes, int chunk)
    {
        var options = new EventLogOptions { PruneInterval = TimeSpan.FromMinutes(intervalMinutes), PruneChunk = chunk };
        using var retention = new EventRetention(Log(), Options.Create(options), TimeProvider.System, NullLogger<EventRetention>.Instance);

        await retention.StartAsync(CancellationToken.None);

        // The host stops on a failed background service (BackgroundServiceExceptionBehavior.StopHost).
        await Assert.ThrowsAsync<InvalidOperationException>(() => retention.ExecuteTask!);
    }

    [Fact]
    public async Task Message_and_its_events_commit_together_in_one_round_trip()
    {
        var store = Store();
        var log = Log();
        var conversation = Ulid.NewUlid().ToString();
        var message = Message(conversation, 1);
        var pendingStatus = Status(conversation, 1);
        var created = new DomainEvent(Ulid.NewUlid(), Tenant, conversation, 2, message.Ts, Causation.Of(Causation.Visitor), new MessageCreated(message));
        var batchesBefore = store.BatchesWritten;
        var commands = new ConcurrentQueue<string>();
        using (var listener = CommandsOf(_db.Name, commands))
        {
            await store.AppendAsync(Tenant, message, [pendingStatus, created]);
        }

        var command = Assert.Single(commands); // message, counter, events and COMMIT in one command: one round trip
        Assert.StartsWith("START TRANSACTION;INSERT INTO kefu_message", command, StringComparison.Ordinal);
        Assert.EndsWith("COMMIT;", command, StringComparison.Ordinal);
        Assert.Equal([message], await store.ReadAfterAsync(Tenant, conversation, 0, 10));
        Assert.Equal([pendingStatus.Id, created.Id], (await log.ReadAsync(Tenant, 0, null, 10)).Events.Select(e => e.Id));
        Assert.Equal(1, store.BatchesWritten - batchesBefore);
    }

    [Fact]
    public async Task A_message_whose_events_cannot_be_stored_is_not_stored_either()
    {
        var store = Store();
        var conversation = Ulid.NewUlid().ToString();
        await ExecuteAsync("RENAME TABLE kefu_event TO kefu_event_away");

        await Assert.ThrowsAsync<MySqlException>(async () => await store.AppendAsync(Tenant, Message(conversation, 1), [Event(conversation, 1)]));

        await ExecuteAsync("RENAME TABLE kefu_event_away TO kefu_event");
        Assert.Empty(await store.ReadAfterAsync(Tenant, conversation, 0, 10));
        Assert.Equal(0, await CountAsync("kefu_event"));
        var retry = Event(conversation, 1);
        await store.AppendAsync(Tenant, Message(conversation, 1), [retry]); // the counter row was not left locked
        Assert.Equal([retry.Id], (await Log().ReadAsync(Tenant, 0, null, 10)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task A_failed_duplicate_append_stores_no_event_and_the_rest_of_its_batch_keeps_theirs()
    {
        var store = Store(o => o.Writers = 1);
        var log = Log();
        var taken = Ulid.NewUlid().ToString();
        await store.AppendAsync(Tenant, Message(taken, 1), [Event(taken, 1)]);

        // Alone: the seq exists, so the append and its event fail.
        var lone = Event(taken, 2);
        await Assert.ThrowsAsync<MessageStoreConflictException>(async () => await store.AppendAsync(Tenant, Message(taken, 1), [lone]));

        // In a batch: hold the writer so the duplicate lands among good appends, then let them all go as one batch.
        await using var tableLock = await LockTableAsync();
        var blocker = store.AppendAsync(Tenant, Message(Ulid.NewUlid().ToString(), 1)).AsTask();
        await UntilInsertIsWaitingAsync();
        var good = Enumerable.Range(0, 10).Select(_ => Ulid.NewUlid().ToString()).Select(c => (Message: Message(c, 1), Event: Event(c, 1))).ToList();
        var appends = good.Take(5).Select(g => store.AppendAsync(Tenant, g.Message, [g.Event]).AsTask()).ToList();
        var duplicateEvent = Event(taken, 3);
        var duplicate = store.AppendAsync(Tenant, Message(taken, 1), [duplicateEvent]).AsTask();
        appends.AddRange(good.Skip(5).Select(g => store.AppendAsync(Tenant, g.Message, [g.Event]).AsTask()));
        await UnlockAsync(tableLock);

        await blocker;
        await Task.WhenAll(appends);
        await Assert.ThrowsAsync<MessageStoreConflictException>(() => duplicate);
        var ids = (await log.ReadAsync(Tenant, 0, null, 100)).Events.Select(e => e.Id).ToHashSet();
        Assert.Equal(11, ids.Count);
        Assert.DoesNotContain(lone.Id, ids);
        Assert.DoesNotContain(duplicateEvent.Id, ids);
        Assert.All(good, g => Assert.Contains(g.Event.Id, ids));
    }

    [Fact]
    public void Cluster_mode_stores_events_in_MySQL_and_prunes_them()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kefu"] = _db.ConnectionString,
            ["Kefu:Events:Retention"] = "7.00:00:00",
        });
        builder.UseOrleans(silo => silo.UseLocalhostClustering(Cluster.KefuOrleansWiring.FreePort(), Cluster.KefuOrleansWiring.FreePort())
            .AddKefuGrains(builder.Configuration));

        Assert.Contains(builder.Services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(EventRetention));
        using var host = builder.Build();
        // The routing runtime wraps the log to wake its routers after appends (issue #15): the MySQL log is underneath.
        var log = Assert.IsType<MySqlEventLog>(Assert.IsType<Kefu.Grains.Events.WakingEventLog>(host.Services.GetRequiredService<IEventLog>()).Inner);
        Assert.Same(host.Services.GetRequiredService<MySqlEventLog>(), log);
        Assert.Equal(TimeSpan.FromDays(7), host.Services.GetRequiredService<IOptions<EventLogOptions>>().Value.Retention);
    }

    private static DateTimeOffset Micros(DateTimeOffset value) => value.AddTicks(-(value.UtcTicks % 10));

    private static ChatMessage Message(string conversation, long seq) =>
        new(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", "Visitor"), $"m{seq}", Micros(DateTimeOffset.UtcNow), null);

    private static DomainEvent Event(string conversation, long seq, DateTimeOffset? time = null)
    {
        var at = Micros(time ?? DateTimeOffset.UtcNow);
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", null), $"m{seq}", at, null);
        return new DomainEvent(Ulid.NewUlid(), Tenant, conversation, seq, at, new Causation(Causation.Visitor, "v-1"), new MessageCreated(message));
    }

    private static DomainEvent Note(string conversation) =>
        new(Ulid.NewUlid(), Tenant, conversation, 9, DateTimeOffset.UtcNow, new Causation(Causation.Agent, "alice"),
            new NoteCreated(new InternalNote("n-1", conversation, new Sender(ParticipantRole.Agent, "alice", "Alice"), "internal", DateTimeOffset.UtcNow)));

    private static DomainEvent Status(string conversation, long seq) =>
        new(Ulid.NewUlid(), Tenant, conversation, seq, DateTimeOffset.UtcNow, Causation.Of("dispatcher"),
            new ConversationStatusChanged("open", "resolved", new ConversationSummary(conversation, Tenant, "default", "v-1", null, "resolved", null, 1, DateTimeOffset.UtcNow, [])));

    private MySqlEventLog Log(Action<EventLogOptions>? configure = null)
    {
        var options = new EventLogOptions();
        configure?.Invoke(options);
        return new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }), Options.Create(options),
            TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
    }

    private MySqlMessageStore Store(Action<MySqlMessageStoreOptions>? configure = null) => _db.Store(configure);

    private Task<MySqlConnection> OpenAsync() => _db.OpenAsync();

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string table)
    {
        await using var connection = await OpenAsync();
        await using var command = new MySqlCommand($"SELECT COUNT(*) FROM {table}", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Records the text of every command MySqlConnector executes on <paramref name="database"/> (its tracing activities).</summary>
    private static ActivityListener CommandsOf(string database, ConcurrentQueue<string> commands)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MySqlConnector",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var db = activity.GetTagItem("db.namespace") ?? activity.GetTagItem("db.name");
                if (Equals(db, database) && (activity.GetTagItem("db.query.text") ?? activity.GetTagItem("db.statement")) is string text)
                {
                    commands.Enqueue(text);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private Task<MySqlConnection> LockTableAsync() => _db.LockTableAsync();

    private static Task UnlockAsync(MySqlConnection connection) => MessageStoreDatabase.UnlockAsync(connection);

    private Task UntilInsertIsWaitingAsync() => _db.UntilInsertIsWaitingAsync();
}
