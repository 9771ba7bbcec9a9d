using Kefu.Contracts.Events;

namespace Kefu.Grains.Events;

/// <summary>
/// The outbox: every event once, with a per-tenant cursor that is strictly increasing and, once a reader has seen
/// cursor N, never gets a new event below N (cursors become visible in order). MySQL table in cluster mode, process
/// memory when embedded.
/// </summary>
public interface IEventLog
{
    /// <summary>
    /// Stores the events (idempotent by event id: one stored before is skipped). The events of one call get
    /// increasing cursors in list order. Completes when they are durable.
    /// </summary>
    ValueTask AppendAsync(IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default);

    /// <inheritdoc cref="Contracts.Grains.IEventLogGrain.Read"/>
    ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default);
}
