using System.Collections.Concurrent;
using Kefu.Contracts.Events;

namespace Kefu.Grains.Events;

/// <summary>
/// The wake-up pattern of the event log's readers on a silo (webhook endpoints, the routing router, the Kafka relay):
/// each active reader of a tenant registers a poke, and events committed here (a conversation's change through
/// <see cref="TenantWakeupSink{TWakeups}"/>, a tenant-level append through <see cref="WakingEventLog"/>, an inbound event
/// directly) poke it, so it reads within milliseconds instead of at its next poll. Coalesced: one poke until the reader
/// <see cref="Registration.Reset"/>s to read again. A reader may name the event types it reads
/// (<see cref="Registration.Types"/>); others do not wake it. Events committed on another silo are found by the poll.
/// Each kind of reader has its own sealed subclass, so each is its own service.
/// </summary>
public abstract class TenantWakeups
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Registration, byte>> _tenants = new(StringComparer.Ordinal);

    public Registration Register(string tenant, Action poke)
    {
        var registration = new Registration(tenant, poke);
        _tenants.GetOrAdd(tenant, _ => new()).TryAdd(registration, 0);
        return registration;
    }

    public void Unregister(Registration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (_tenants.TryGetValue(registration.Tenant, out var readers))
        {
            readers.TryRemove(registration, out _);
        }
    }

    /// <summary>Something of <paramref name="tenant"/> was committed: every reader of it is poked, whatever types it reads.</summary>
    public void Notify(string tenant)
    {
        if (_tenants.TryGetValue(tenant, out var readers))
        {
            foreach (var registration in readers.Keys)
            {
                registration.Signal();
            }
        }
    }

    /// <summary>Events were committed: each reader of their tenant is poked if it reads any of their types.</summary>
    public void Notify(string tenant, IReadOnlyList<DomainEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (!_tenants.TryGetValue(tenant, out var readers))
        {
            return;
        }

        foreach (var registration in readers.Keys)
        {
            var types = registration.Types;
            foreach (var e in events)
            {
                if (string.Equals(e.Tenant, tenant, StringComparison.Ordinal) && (types is null || types.Contains(e.Type)))
                {
                    registration.Signal();
                    break;
                }
            }
        }
    }

    /// <summary>One reader's subscription.</summary>
    public sealed class Registration(string tenant, Action poke)
    {
        private int _signaled;

        public string Tenant { get; } = tenant;

        /// <summary>The event types the reader reads (null: all); other events do not wake it.</summary>
        public IReadOnlySet<string>? Types { get; set; }

        /// <summary>The reader is about to read: the next event pokes it again.</summary>
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

/// <summary>The conversation sink that feeds one kind of <see cref="TenantWakeups"/> (returns at once, as sinks must).</summary>
public sealed class TenantWakeupSink<TWakeups>(TWakeups wakeups) : IConversationEventSink
    where TWakeups : TenantWakeups
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
/// The event log with a wake-up after each append (tenant-level events — contacts, route executions, emitted events — do
/// not pass a conversation sink). Everything else is the log underneath (<see cref="Inner"/>).
/// </summary>
public sealed class WakingEventLog(IEventLog inner, TenantWakeups wakeups) : IEventLog
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

    public ValueTask<EventPage> ReadConversationAsync(string tenant, string conversationId, long after, IReadOnlyCollection<string> types, int limit, CancellationToken cancellationToken = default) =>
        inner.ReadConversationAsync(tenant, conversationId, after, types, limit, cancellationToken);
}
