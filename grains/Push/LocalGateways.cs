using System.Collections.Concurrent;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Push;

/// <summary>
/// Gateways living in this very process (the embedded default). The pusher hands their events straight to the
/// observer object instead of going through an Orleans call and a thread hop per batch; remote gateways still get
/// the batched observer call.
/// </summary>
public sealed class LocalGateways
{
    private readonly ConcurrentDictionary<string, IGatewayObserver> _observers = new(StringComparer.Ordinal);

    public void Add(string gatewayId, IGatewayObserver observer) => _observers[gatewayId] = observer;

    public void Remove(string gatewayId) => _observers.TryRemove(gatewayId, out _);

    public bool TryGet(string gatewayId, out IGatewayObserver observer) => _observers.TryGetValue(gatewayId, out observer!);
}
