using Kefu.Contracts.Grains;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Plugins;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.WebSockets;

/// <summary>
/// Whether a tenant has before_message plugins, as this gateway last heard from the tenant's registry: asked at most once
/// per <see cref="PluginHookOptions.HookSetRefresh"/> per tenant, so a visitor message of a tenant without such plugins
/// (most of them) goes straight to the conversation. In cluster mode the hook worker is a round trip to a silo; asking
/// it on every visitor message cost the gateway and the silo a grain call per message that answered "no plugins". A
/// tenant with plugins still goes through the worker, which keeps its own hook set and applies on_error. An upload or
/// disable reaches the chat path within twice the refresh time (this cache, then the worker's). A zero refresh turns
/// the cache off (every message asks the worker). When the registry cannot answer, the message goes to the worker,
/// which falls back on its last known set.
/// </summary>
public sealed class BeforeMessageGate(Func<string, Task<PluginHookSet>> hooksOf, IOptions<PluginHookOptions> options, TimeProvider time)
{
    public BeforeMessageGate(IGrainFactory grains, IOptions<PluginHookOptions> options, TimeProvider time)
        : this(tenant => grains.GetGrain<IPluginRegistryGrain>(tenant).GetHooks(), options, time)
    {
    }

    private const int MaxTenantsKept = 10_000;
    private readonly Dictionary<string, Entry> _tenants = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>True when the message must go through the tenant's before_message worker.</summary>
    public ValueTask<bool> MustRunAsync(string tenant)
    {
        var refresh = options.Value.HookSetRefresh;
        if (refresh <= TimeSpan.Zero)
        {
            return ValueTask.FromResult(true);
        }

        var now = time.GetUtcNow();
        Task<bool> fetching;
        lock (_gate)
        {
            if (!_tenants.TryGetValue(tenant, out var entry))
            {
                if (_tenants.Count >= MaxTenantsKept)
                {
                    _tenants.Clear(); // far more tenants than any deployment has: start over rather than grow
                }

                _tenants[tenant] = entry = new Entry();
            }

            if (entry.Fetching is null && entry.FetchedAt is { } at && now - at < refresh)
            {
                return ValueTask.FromResult(entry.HasHooks);
            }

            // One fetch per tenant however many messages wait for it.
            fetching = entry.Fetching ??= FetchAsync(tenant, entry, now);
        }

        return new ValueTask<bool>(fetching);
    }

    private async Task<bool> FetchAsync(string tenant, Entry entry, DateTimeOffset now)
    {
        await Task.Yield(); // out of the caller's lock
        bool has;
        try
        {
            has = (await hooksOf(tenant)).BeforeMessage.Length > 0;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The registry did not answer: let the worker decide with what it knows (and ask again next time).
            lock (_gate)
            {
                entry.Fetching = null;
            }

            return true;
        }

        lock (_gate)
        {
            entry.HasHooks = has;
            entry.FetchedAt = now;
            entry.Fetching = null;
        }

        return has;
    }

    private sealed class Entry
    {
        public bool HasHooks { get; set; }

        public DateTimeOffset? FetchedAt { get; set; }

        public Task<bool>? Fetching { get; set; }
    }
}
