using System.Globalization;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests.Retention;

/// <summary>
/// Retention on MariaDB (deploy/mysql/015): one tenant's old messages and events are deleted in chunks while another
/// tenant's stay; a conversation's newest message stays as an empty anchor, so its seq continues.
/// </summary>
public sealed class RetentionStorageTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = Micros(DateTimeOffset.UtcNow);
    private readonly MessageStoreDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task A_tenants_old_messages_go_in_chunks_the_newest_stays_empty_and_other_tenants_keep_theirs()
    {
        var store = _db.Store();
        var (busy, quiet) = (Ulid.NewUlid().ToString(), Ulid.NewUlid().ToString());
        for (var seq = 1; seq <= 5; seq++)
        {
            await store.AppendAsync("acme", Message(busy, seq, Now.AddDays(-20 + seq)));
        }

        await store.AppendAsync("acme", Message(quiet, 1, Now.AddDays(-30)));
        await store.AppendAsync("other", Message(busy, 1, Now.AddDays(-30)));
        await store.AppendAsync("other", Message(busy, 2, Now.AddDays(-30)));

        // Cutoff 10 days ago: busy 1..5 (days -19..-15) and quiet's only message are old; chunks of 2.
        var calls = 0;
        var changed = 0;
        int chunk;
        do
        {
            chunk = await store.PruneAsync("acme", Now.AddDays(-10), 2);
            changed += chunk;
            calls++;
        }
        while (chunk == 2);

        Assert.Equal(6, changed); // busy 1..4 deleted, busy 5 and quiet 1 emptied as anchors
        Assert.True(calls >= 3, $"{calls} calls");
        var left = await store.ReadAfterAsync("acme", busy, 0, 10);
        var anchor = Assert.Single(left);
        Assert.Equal((5L, string.Empty, (string?)null), (anchor.Seq, anchor.Text, anchor.Sender.Name));
        Assert.Equal(string.Empty, Assert.Single(await store.ReadLatestAsync("acme", quiet, 5)).Text);
        Assert.Equal(0, await store.PruneAsync("acme", Now.AddDays(-10), 2)); // anchors are not found again

        // The conversation continues at the next seq; the other tenant is untouched.
        await store.AppendAsync("acme", Message(busy, 6, Now));
        Assert.Equal([5L, 6L], (await store.ReadAfterAsync("acme", busy, 0, 10)).Select(m => m.Seq));
        Assert.Equal(["m1", "m2"], (await store.ReadAfterAsync("other", busy, 0, 10)).Select(m => m.Text));
    }

    [Fact]
    public async Task Young_messages_are_kept_and_the_prune_query_uses_the_retention_index()
    {
        var store = _db.Store();
        var conversation = Ulid.NewUlid().ToString();
        await store.AppendAsync("young", Message(conversation, 1, Now.AddDays(-1)));
        await store.AppendAsync("young", Message(conversation, 2, Now));
        Assert.Equal(0, await store.PruneAsync("young", Now.AddDays(-2), 100));
        Assert.Equal(2, (await store.ReadAfterAsync("young", conversation, 0, 10)).Count);

        await using var connection = await _db.OpenAsync();
        await using var explain = new MySqlCommand(
            "EXPLAIN SELECT conversation_id, seq FROM kefu_message FORCE INDEX (ix_kefu_message_retention) WHERE tenant = 'young' AND pruned = 0 AND created_at < NOW() LIMIT 10", connection);
        await using var reader = await explain.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("ix_kefu_message_retention", reader["key"] as string);
    }

    [Fact]
    public async Task A_tenants_old_events_are_pruned_to_its_own_horizon_and_readers_learn_their_cursor_expired()
    {
        var log = new MySqlEventLog(
            Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }), Options.Create(new EventLogOptions()),
            TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
        await using var _ = log;
        await log.AppendAsync([Event("acme", Now.AddDays(-9)), Event("acme", Now.AddDays(-8)), Event("acme", Now.AddDays(-1)), Event("other", Now.AddDays(-9))]);

        Assert.Equal(1, await log.PruneTenantAsync("acme", Now.AddDays(-5), 1, CancellationToken.None));
        Assert.Equal(1, await log.PruneTenantAsync("acme", Now.AddDays(-5), 1, CancellationToken.None));
        Assert.Equal(0, await log.PruneTenantAsync("acme", Now.AddDays(-5), 1, CancellationToken.None));

        var acme = await log.ReadAsync("acme", 0, null, 10);
        Assert.True(acme.CursorExpired);
        Assert.Equal([Now.AddDays(-1)], acme.Events.Select(e => e.Time));
        Assert.Single((await log.ReadAsync("other", 0, null, 10)).Events);
    }

    private static ChatMessage Message(string conversation, long seq, DateTimeOffset at) =>
        new(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", "Ann"), "m" + seq.ToString(CultureInfo.InvariantCulture), at, null);

    private static DomainEvent Event(string tenant, DateTimeOffset at) =>
        new(Ulid.NewUlid(), tenant, null, 0, at, Causation.Of("test"), new CustomEvent("custom.test", "{}"));

    private static DateTimeOffset Micros(DateTimeOffset t) => new(t.Ticks - (t.Ticks % 10), t.Offset);
}
