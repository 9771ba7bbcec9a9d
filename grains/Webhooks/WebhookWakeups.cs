using System.Collections.Concurrent;
using Kefu.Grains.Events;

namespace Kefu.Grains.Webhooks;

/// <summary>
/// Wakes this silo's active endpoints of a tenant when its conversations commit events, so a delivery starts within
/// milliseconds instead of at the next poll. Coalesced: an endpoint gets one poke until it starts reading again. Events
/// committed on another silo (and tenant-level events) are found by the endpoint's poll instead.
/// </summary>
public sealed class WebhookWakeups
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
        if (_tenants.TryGetValue(registration.Tenant, out var endpoints))
        {
            endpoints.TryRemove(registration, out _);
        }
    }

    public void Notify(string tenant)
    {
        if (!_tenants.TryGetValue(tenant, out var endpoints))
        {
            return;
        }

        foreach (var registration in endpoints.Keys)
        {
            registration.Signal();
        }
    }

    /// <summary>One endpoint's subscription.</summary>
    public sealed class Registration(string tenant, Action poke)
    {
        private int _signaled;

        public string Tenant { get; } = tenant;

        /// <summary>The endpoint is about to read: the next event pokes it again.</summary>
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

/// <summary>The conversation sink that feeds <see cref="WebhookWakeups"/> (returns at once, as sinks must).</summary>
public sealed class WebhookWakeupSink(WebhookWakeups wakeups) : IConversationEventSink
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
