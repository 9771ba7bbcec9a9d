using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;

namespace Kefu.Grains.Inbound;

/// <summary>
/// A sender event id's deduplication record (INTEGRATION.md §3): the accepted body's hash and what the sender was
/// answered. <see cref="BodyHash"/> is the lower-case hex SHA-256 of the compact body.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InboundRecord(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string SourceId,
    [property: Id(2)] string BodyHash,
    [property: Id(3)] InboundAck Answer,
    [property: Id(4)] DateTimeOffset AcceptedAt);

/// <summary>
/// Where deduplication records live: a MySQL table in cluster mode (<see cref="MySqlInboundRecordStore"/>, batched), process
/// memory when embedded. Only the id's grain writes its record (Orleans runs one activation per id), so there is no
/// contention to arbitrate beyond the rare duplicate activation, which <see cref="SaveAsync"/> detects.
/// </summary>
public interface IInboundRecordStore
{
    /// <summary>The id's record, or null. A record past retention is returned too: the caller decides it is stale.</summary>
    ValueTask<InboundRecord?> FindAsync(string tenant, string sourceId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores the record and its inbound.received event together (the event exists if and only if the record does) and
    /// completes when both are durable. A record of the same id still within retention is never replaced: then the stored
    /// one is returned and nothing is written (another activation of the id won). Otherwise returns <paramref name="record"/>.
    /// </summary>
    ValueTask<InboundRecord> SaveAsync(InboundRecord record, DomainEvent received, DateTimeOffset staleBefore, CancellationToken cancellationToken = default);

    /// <summary>Deletes records accepted before <paramref name="staleBefore"/> (in chunks); returns how many.</summary>
    Task<long> PruneAsync(DateTimeOffset staleBefore, CancellationToken cancellationToken = default);
}

/// <summary>Embedded mode: records in process memory, events in the in-memory log (both are lost together at a restart).</summary>
public sealed class InMemoryInboundRecordStore(IEventLog eventLog) : IInboundRecordStore
{
    private readonly ConcurrentDictionary<(string Tenant, string SourceId), InboundRecord> _records = new();

    public ValueTask<InboundRecord?> FindAsync(string tenant, string sourceId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_records.TryGetValue((tenant, sourceId), out var record) ? record : null);

    public async ValueTask<InboundRecord> SaveAsync(InboundRecord record, DomainEvent received, DateTimeOffset staleBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        var key = (record.Tenant, record.SourceId);
        var stored = _records.AddOrUpdate(key, record, (_, existing) => existing.AcceptedAt < staleBefore ? record : existing);
        if (!ReferenceEquals(stored, record))
        {
            return stored;
        }

        try
        {
            await eventLog.AppendAsync([received], cancellationToken);
        }
        catch
        {
            // No record without its event: the sender's retry starts afresh.
            _records.TryRemove(new KeyValuePair<(string, string), InboundRecord>(key, record));
            throw;
        }

        return record;
    }

    public Task<long> PruneAsync(DateTimeOffset staleBefore, CancellationToken cancellationToken = default)
    {
        long pruned = 0;
        foreach (var (key, record) in _records)
        {
            if (record.AcceptedAt < staleBefore && _records.TryRemove(new KeyValuePair<(string, string), InboundRecord>(key, record)))
            {
                pruned++;
            }
        }

        return Task.FromResult(pruned);
    }
}
