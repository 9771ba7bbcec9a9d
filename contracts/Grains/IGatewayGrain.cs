using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// Implemented once per gateway process; it owns the process's WebSocket connections and fans each pushed event out
/// to the local connections of its recipients. Kept tiny: it only enqueues.
/// </summary>
public interface IGatewayObserver : IGrainObserver
{
    Task Deliver(PushEnvelope[] batch);
}

/// <summary>The registry entry of one gateway process, keyed by gateway id; the gateway refreshes it by heartbeat.</summary>
public interface IGatewayGrain : IGrainWithStringKey
{
    Task Register(IGatewayObserver observer);

    Task Unregister();

    /// <summary>The observer, or null when the gateway is unknown or missed its heartbeats.</summary>
    [AlwaysInterleave]
    Task<IGatewayObserver?> GetObserver();
}
