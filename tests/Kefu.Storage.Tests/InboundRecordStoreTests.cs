using System.Security.Cryptography;
using System.Text;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Kefu.Grains.Inbound;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests;

/// <summary>
/// MySqlInboundRecordStore (deploy/mysql/011-inbound-events.sql): a sender id's deduplication record and its
/// inbound.received event commit together, batched; a current record is never replaced; stale ones are, and are pruned.
/// </summary>
public sealed class InboundRecordStoreTests : IAsyncLifetime
{
    private const string Tenant = "acme";
    private static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    private readonly MessageStoreDatabase _db = new();
    private readonly List<MySqlInboundRecordStore> _stores = [];

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_saved_record_is_found_and_its_event_is_in_the_log()
    {
        var store = Store();
        var now = Micros(DateTimeOffset.UtcNow);
        var (record, received) = New("erp-1", "body-a", now);

        Assert.Null(await store.FindAsync(Tenant, "erp-1"));
        Assert.Same(record, await store.SaveAsync(record, received, now - Retention));

        var found = await store.FindAsync(Tenant, "erp-1");
        Assert.Equal(record, found);
        var events = (await Log().ReadAsync(Tenant, 0, null, 10)).Events;
        var stored = Assert.Single(events);
        Assert.Equal((received.Id, EventTypes.InboundReceived), (stored.Id, stored.Type));
        Assert.Contains("\"sourceId\":\"erp-1\"", stored.DataJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_current_record_is_never_replaced_and_the_second_save_writes_no_event()
    {
        // What two activations of one id (possible for a moment in a cluster) would do: the second learns the first's record.
        var store = Store();
        var now = Micros(DateTimeOffset.UtcNow);
        var (first, firstEvent) = New("erp-2", "body-a", now);
        var (second, secondEvent) = New("erp-2", "body-b", now.AddSeconds(1));

        await store.SaveAsync(first, firstEvent, now - Retention);
        var answer = await store.SaveAsync(second, secondEvent, now - Retention);

        Assert.Equal(first, answer);
        Assert.Equal(first, await store.FindAsync(Tenant, "erp-2"));
        Assert.Equal([firstEvent.Id], (await Log().ReadAsync(Tenant, 0, null, 10)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task A_record_past_retention_is_replaced_with_a_new_event()
    {
        var store = Store();
        var now = Micros(DateTimeOffset.UtcNow);
        var (old, oldEvent) = New("erp-3", "body-a", now - Retention - TimeSpan.FromMinutes(1));
        var (fresh, freshEvent) = New("erp-3", "body-b", now);

        await store.SaveAsync(old, oldEvent, now - Retention - Retention);
        Assert.Same(fresh, await store.SaveAsync(fresh, freshEvent, now - Retention));

        Assert.Equal(fresh, await store.FindAsync(Tenant, "erp-3"));
        Assert.Equal([oldEvent.Id, freshEvent.Id], (await Log().ReadAsync(Tenant, 0, null, 10)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task Six_hundred_concurrent_saves_each_store_their_record_and_exactly_one_event()
    {
        var store = Store();
        var now = Micros(DateTimeOffset.UtcNow);
        var saves = Enumerable.Range(0, 600).Select(i => New($"erp-many-{i}", "body", now)).ToList();

        var answers = await Task.WhenAll(saves.Select(s => store.SaveAsync(s.Record, s.Event, now - Retention).AsTask()));

        Assert.Equal(saves.Select(s => s.Record), answers);
        var found = await Task.WhenAll(saves.Select(s => store.FindAsync(Tenant, s.Record.SourceId).AsTask()));
        Assert.Equal(saves.Select(s => s.Record), found);
        var log = Log();
        var ids = new List<Ulid>();
        for (long after = 0; ;)
        {
            var page = await log.ReadAsync(Tenant, after, null, 500);
            ids.AddRange(page.Events.Select(e => e.Id));
            if (page.Events.Length == 0)
            {
                break;
            }

            after = page.Next;
        }

        Assert.Equal(saves.Select(s => s.Event.Id).Order(), ids.Order());
    }

    [Fact]
    public async Task A_save_the_database_refuses_fails_alone_and_its_batch_neighbours_are_stored()
    {
        var store = Store();
        var now = Micros(DateTimeOffset.UtcNow);
        var good = Enumerable.Range(0, 50).Select(i => New($"erp-ok-{i}", "body", now)).ToList();
        var (bad, badEvent) = New("erp-bad", "body", now);
        bad = bad with { Answer = bad.Answer with { ContactId = new string('c', 65) } }; // the column holds 64

        var goodSaves = good.Select(s => store.SaveAsync(s.Record, s.Event, now - Retention).AsTask()).ToList();
        var badSave = store.SaveAsync(bad, badEvent, now - Retention).AsTask();

        await Assert.ThrowsAsync<MySqlException>(() => badSave);
        Assert.Equal(good.Select(s => s.Record), await Task.WhenAll(goodSaves));
        Assert.Null(await store.FindAsync(Tenant, "erp-bad"));
        Assert.DoesNotContain(badEvent.Id, (await Log().ReadAsync(Tenant, 0, null, 500)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task Pruning_deletes_only_records_past_retention()
    {
        var store = Store();
        var now = Micros(DateTimeOffset.UtcNow);
        for (var i = 0; i < 3; i++)
        {
            var (old, oldEvent) = New($"erp-old-{i}", "body", now - Retention - TimeSpan.FromHours(1));
            await store.SaveAsync(old, oldEvent, now - Retention - Retention);
        }

        var (current, currentEvent) = New("erp-current", "body", now);
        await store.SaveAsync(current, currentEvent, now - Retention);

        Assert.Equal(3, await store.PruneAsync(now - Retention));

        Assert.Null(await store.FindAsync(Tenant, "erp-old-0"));
        Assert.Equal(current, await store.FindAsync(Tenant, "erp-current"));
        Assert.Equal(0, await store.PruneAsync(now - Retention));
    }

    private static (InboundRecord Record, DomainEvent Event) New(string sourceId, string body, DateTimeOffset at)
    {
        var received = GrainEvents.Create(Tenant, new InboundReceived(sourceId, "order_status", "contact-1", "u-1", "{\"order_id\":\"12345\"}", "01JB0000000000000000000000"),
            new Causation(Causation.ApiKey, "key-1", "erp"), at);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var record = new InboundRecord(Tenant, sourceId, hash, new InboundAck(received.Id.ToString(), false, "01JB0000000000000000000000", "contact-1"), at);
        return (record, received);
    }

    private static DateTimeOffset Micros(DateTimeOffset value) => value.AddTicks(-(value.UtcTicks % 10));

    private MySqlInboundRecordStore Store()
    {
        var store = new MySqlInboundRecordStore(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }),
            Options.Create(new InboundOptions { DedupRetention = Retention }), TimeProvider.System, NullLogger<MySqlInboundRecordStore>.Instance);
        _stores.Add(store);
        return store;
    }

    private MySqlEventLog Log() => new(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }),
        Options.Create(new EventLogOptions()), TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
}
