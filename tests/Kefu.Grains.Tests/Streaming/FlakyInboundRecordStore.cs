using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Grains.Inbound;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>Which sender ids' record lookups fail, and how many more times each.</summary>
public sealed class InboundFailureSwitch
{
    private readonly ConcurrentDictionary<string, int> _remaining = new(StringComparer.Ordinal);

    public void FailNext(string sourceId, int times) => _remaining[sourceId] = times;

    /// <summary>True when this lookup of <paramref name="sourceId"/> is to fail (and counts it).</summary>
    public bool ShouldFail(string sourceId)
    {
        while (_remaining.TryGetValue(sourceId, out var left) && left > 0)
        {
            if (_remaining.TryUpdate(sourceId, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The in-memory inbound store, whose lookups throw for the ids the switch names: a database that is away.</summary>
public sealed class FlakyInboundRecordStore(IInboundRecordStore inner, InboundFailureSwitch failures) : IInboundRecordStore
{
    public ValueTask<InboundRecord?> FindAsync(string tenant, string sourceId, CancellationToken cancellationToken = default) =>
        failures.ShouldFail(sourceId)
            ? ValueTask.FromException<InboundRecord?>(new TimeoutException("The inbound store is away (test)."))
            : inner.FindAsync(tenant, sourceId, cancellationToken);

    public ValueTask<InboundRecord> SaveAsync(InboundRecord record, DomainEvent received, DateTimeOffset staleBefore, CancellationToken cancellationToken = default) =>
        inner.SaveAsync(record, received, staleBefore, cancellationToken);

    public Task<long> PruneAsync(DateTimeOffset staleBefore, CancellationToken cancellationToken = default) => inner.PruneAsync(staleBefore, cancellationToken);
}
