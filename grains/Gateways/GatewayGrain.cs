using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Gateways;

/// <summary>
/// Registry entry of one gateway process. Volatile on purpose: a gateway re-registers on every heartbeat, so after a
/// silo failure the entry is rebuilt within one heartbeat interval, and a dead gateway expires.
/// </summary>
public sealed class GatewayGrain(TimeProvider time, IOptions<PresenceOptions> presence) : Grain, IGatewayGrain
{
    private IGatewayObserver? _observer;
    private DateTimeOffset _lastHeartbeat;

    public Task Register(IGatewayObserver observer)
    {
        _observer = observer;
        _lastHeartbeat = time.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task Unregister()
    {
        _observer = null;
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task<IGatewayObserver?> GetObserver()
    {
        var alive = _observer is not null && time.GetUtcNow() - _lastHeartbeat <= presence.Value.Expiry;
        return Task.FromResult(alive ? _observer : null);
    }
}
