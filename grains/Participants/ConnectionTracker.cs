using Kefu.Contracts.Messages;

namespace Kefu.Grains.Participants;

/// <summary>
/// Which gateways hold a participant's connections, as the gateways last said. Entries not refreshed by a heartbeat
/// within the expiry are dropped, so a crashed gateway or a lost network never leaves a ghost online.
/// </summary>
public sealed class ConnectionTracker(string participantKey, TimeProvider time)
{
    private readonly Dictionary<string, GatewayConnections> _gateways = new(StringComparer.Ordinal);

    public ParticipantPresence Presence { get; private set; } = new(participantKey, 0, []);

    public bool HasConnections => _gateways.Count > 0;

    public int ConnectionCount => _gateways.Values.Sum(g => g.Connections.Count);

    /// <returns>true when the set of gateways changed (and <see cref="Presence"/> got a new version).</returns>
    public bool Connect(string gatewayId, string connectionId)
    {
        var entry = Entry(gatewayId);
        entry.Connections.Add(connectionId);
        entry.LastSeen = time.GetUtcNow();
        return Refresh();
    }

    public bool Disconnect(string gatewayId, string connectionId)
    {
        if (_gateways.TryGetValue(gatewayId, out var entry) && entry.Connections.Remove(connectionId) && entry.Connections.Count == 0)
        {
            _gateways.Remove(gatewayId);
        }

        return Refresh();
    }

    public bool Heartbeat(string gatewayId, IReadOnlyCollection<string> connectionIds)
    {
        if (connectionIds.Count == 0)
        {
            _gateways.Remove(gatewayId);
        }
        else
        {
            var entry = Entry(gatewayId);
            entry.Connections.Clear();
            entry.Connections.UnionWith(connectionIds);
            entry.LastSeen = time.GetUtcNow();
        }

        return Refresh();
    }

    public bool Expire(TimeSpan expiry)
    {
        var cutoff = time.GetUtcNow() - expiry;
        foreach (var (gatewayId, entry) in _gateways.ToArray())
        {
            if (entry.LastSeen < cutoff)
            {
                _gateways.Remove(gatewayId);
            }
        }

        return Refresh();
    }

    private GatewayConnections Entry(string gatewayId)
    {
        if (!_gateways.TryGetValue(gatewayId, out var entry))
        {
            _gateways[gatewayId] = entry = new GatewayConnections();
        }

        return entry;
    }

    private bool Refresh()
    {
        var current = Presence.Gateways;
        if (current.Length == _gateways.Count && current.All(_gateways.ContainsKey))
        {
            return false;
        }

        // Versions only grow, across activations too (time-based), so receivers can drop a late, older update.
        var version = Math.Max(Presence.Version + 1, time.GetUtcNow().UtcTicks);
        Presence = new ParticipantPresence(participantKey, version, [.. _gateways.Keys.Order(StringComparer.Ordinal)]);
        return true;
    }

    private sealed class GatewayConnections
    {
        public HashSet<string> Connections { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset LastSeen { get; set; }
    }
}
