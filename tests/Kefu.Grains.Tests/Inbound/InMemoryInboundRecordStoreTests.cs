using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Kefu.Grains.Inbound;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tests.Inbound;

/// <summary>The embedded mode's records: a record exists only with its event, a current one is kept, stale ones go.</summary>
public sealed class InMemoryInboundRecordStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_record_whose_event_cannot_be_stored_is_not_kept()
    {
        var store = new InMemoryInboundRecordStore(new FailingLog());
        var (record, received) = New("erp-1", Now);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.SaveAsync(record, received, Now.AddDays(-1)).AsTask());

        Assert.Null(await store.FindAsync("t", "erp-1"));
    }

    [Fact]
    public async Task A_current_record_is_kept_a_stale_one_replaced_and_pruning_removes_only_stale_ones()
    {
        var log = new InMemoryEventLog(Options.Create(new EventLogOptions()), TimeProvider.System);
        var store = new InMemoryInboundRecordStore(log);
        var (first, firstEvent) = New("erp-2", Now.AddHours(-30));
        var (second, secondEvent) = New("erp-2", Now.AddHours(-1));
        var (third, thirdEvent) = New("erp-2", Now);

        await store.SaveAsync(first, firstEvent, Now.AddDays(-2));
        Assert.Same(first, await store.SaveAsync(second, secondEvent, Now.AddDays(-2))); // first is current then: kept
        Assert.Same(third, await store.SaveAsync(third, thirdEvent, Now.AddDays(-1))); // first is stale now: replaced

        Assert.Equal([firstEvent.Id, thirdEvent.Id], (await log.ReadAsync("t", 0, null, 10)).Events.Select(e => e.Id));
        var (old, oldEvent) = New("erp-3", Now.AddHours(-30));
        await store.SaveAsync(old, oldEvent, Now.AddDays(-2));
        Assert.Equal(1, await store.PruneAsync(Now.AddDays(-1)));
        Assert.Null(await store.FindAsync("t", "erp-3"));
        Assert.Same(third, await store.FindAsync("t", "erp-2"));
    }

    private static (InboundRecord, DomainEvent) New(string sourceId, DateTimeOffset at)
    {
        var received = GrainEvents.Create("t", new InboundReceived(sourceId, "order_status", null, null, "{}"), Causation.Of("test"), at);
        return (new InboundRecord("t", sourceId, "00", new InboundAck(received.Id.ToString(), false, null, null), at), received);
    }

    private sealed class FailingLog : IEventLog
    {
        public ValueTask AppendAsync(IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new InvalidOperationException("the log is down"));

        public ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
