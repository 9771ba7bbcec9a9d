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

    /// <summary>
    /// One conversation's events of the given <paramref name="types"/> with a cursor greater than <paramref name="after"/>,
    /// in cursor order, at most <paramref name="limit"/> (the activity timeline, issue #18). Besides the conversation's own
    /// events this finds the tenant-level ones about it (a route execution, a CRM sync failure of the conversation, an
    /// email) by the conversation id in their data. Never message.created or note.created. An index read: bounded by
    /// the limit, not by the conversation's length.
    /// </summary>
    ValueTask<EventPage> ReadConversationAsync(string tenant, string conversationId, long after, IReadOnlyCollection<string> types, int limit, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} cannot read a conversation's activity.");
}
