using Kefu.Contracts.Events;

namespace Kefu.Contracts.Grains;

/// <summary>
/// Reads a tenant's outbox for the events API: a stateless worker on the silos, so gateways never talk to the
/// database. Keyed by tenant.
/// </summary>
public interface IEventLogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Events with a cursor greater than <paramref name="after"/>, in cursor order, at most <paramref name="limit"/>;
    /// only the given types when <paramref name="types"/> is not null (else every type except explicit-only ones).
    /// </summary>
    Task<EventPage> Read(long after, string[]? types, int limit);
}
