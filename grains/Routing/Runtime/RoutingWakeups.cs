using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Grains.Events;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// Wakes this silo's active router of a tenant when events of a type its rules read are committed here (a
/// conversation's change, or a tenant-level event appended through <see cref="IEventLog"/>: inbound events, emitted
/// events), so rules act within milliseconds instead of at the next poll; other events (every chat message, when the
/// rules only listen to inbound events) do not make it read. Coalesced: one poke until the router reads again. Events
/// committed on another silo are found by the router's poll.
/// </summary>
public sealed class RoutingWakeups
{
    private readonly ConcurrentDictionary<string, Registration> _tenants = new(StringComparer.Ordinal);

    public Registration Register(string tenant, Action poke)
    {
        var registration = new Registration(tenant, poke);
        _tenants[tenant] = registration;
        return registration;
    }

    public void Unregister(Registration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        _tenants.TryRemove(new KeyValuePair<string, Registration>(registration.Tenant, registration));
    }

    /// <summary>Events of <paramref name="tenant"/> were committed: its router is poked if it reads any of their types.</summary>
    public void Notify(string tenant, IReadOnlyList<DomainEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (!_tenants.TryGetValue(tenant, out var registration))
        {
            return;
        }

        var types = registration.Types;
        foreach (var e in events)
        {
            if (string.Equals(e.Tenant, tenant, StringComparison.Ordinal) && types.Contains(e.Type))
            {
                registration.Signal();
                return;
            }
        }
    }

    public sealed class Registration(string tenant, Action poke)
    {
        private int _signaled;

        public string Tenant { get; } = tenant;

        /// <summary>The event types the router reads (set when its rules change): other events do not wake it.</summary>
        public IReadOnlySet<string> Types { get; set; } = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>The router is about to read: the next event pokes it again.</summary>
        public void Reset() => Volatile.Write(ref _signaled, 0);

        internal void Signal()
        {
            if (Interlocked.Exchange(ref _signaled, 1) == 0)
            {
                poke();
            }
        }
    }
}

/// <summary>The conversation sink that feeds <see cref="RoutingWakeups"/> (returns at once, as sinks must).</summary>
public sealed class RoutingWakeupSink(RoutingWakeups wakeups) : IConversationEventSink
{
    public void OnCommitted(CommittedChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Events.Count > 0)
        {
            wakeups.Notify(change.Tenant, change.Events);
        }
    }
}

/// <summary>
/// The event log with a wake-up after each append (tenant-level events — inbound, emitted, route.executed — do not pass
/// a conversation sink). Everything else is the log underneath.
/// </summary>
public sealed class WakingEventLog(IEventLog inner, RoutingWakeups wakeups) : IEventLog
{
    public IEventLog Inner => inner;

    public async ValueTask AppendAsync(IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        await inner.AppendAsync(events, cancellationToken);
        string? last = null;
        foreach (var e in events)
        {
            if (!string.Equals(e.Tenant, last, StringComparison.Ordinal))
            {
                wakeups.Notify(e.Tenant, events);
                last = e.Tenant;
            }
        }
    }

    public ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(tenant, after, types, limit, cancellationToken);
}
