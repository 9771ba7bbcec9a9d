using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Grains.Events;

namespace Kefu.Grains.ConversationEvents;

/// <summary>
/// Wakes this silo's active relay of a tenant when events are committed here (a conversation's change, or an event
/// appended through <see cref="IEventLog"/>), so they reach Kafka within milliseconds instead of at the next poll.
/// Coalesced: one poke until the relay reads again (inbound events, stored with their dedup record, poke it directly).
/// Events committed on another silo are found by the relay's poll. Registered on every silo (with Kafka off nothing
/// registers, and a notification does nothing).
/// </summary>
public sealed class ConversationEventsWakeups
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

    public void Notify(string tenant)
    {
        if (_tenants.TryGetValue(tenant, out var registration))
        {
            registration.Signal();
        }
    }

    public sealed class Registration(string tenant, Action poke)
    {
        private int _signaled;

        public string Tenant { get; } = tenant;

        /// <summary>The relay is about to read: the next event pokes it again.</summary>
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

/// <summary>The conversation sink that feeds <see cref="ConversationEventsWakeups"/> (returns at once, as sinks must).</summary>
public sealed class ConversationEventsWakeupSink(ConversationEventsWakeups wakeups) : IConversationEventSink
{
    public void OnCommitted(CommittedChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.Events.Count > 0)
        {
            wakeups.Notify(change.Tenant);
        }
    }
}

/// <summary>
/// The event log with a relay wake-up after each append (tenant-level events — contacts, route executions, emitted
/// events — do not pass a conversation sink). Registered only when the relay runs; everything else is the log underneath.
/// </summary>
public sealed class ConversationEventsWakingLog(IEventLog inner, ConversationEventsWakeups wakeups) : IEventLog
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
                wakeups.Notify(e.Tenant);
                last = e.Tenant;
            }
        }
    }

    public ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(tenant, after, types, limit, cancellationToken);
}
