using System.Collections.Concurrent;

namespace Kefu.Gateway.WebSockets;

/// <summary>This gateway's open connections, by participant key ("{tenant}/{role}/{id}").</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, ChatConnection[]> _byParticipant = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(ChatConnection connection) => TryAdd(connection, int.MaxValue);

    /// <summary>Adds the connection unless its participant already has <paramref name="max"/> here (checked atomically).</summary>
    public bool TryAdd(ChatConnection connection, int max)
    {
        var key = connection.ParticipantKey;
        while (true)
        {
            if (!_byParticipant.TryGetValue(key, out var existing))
            {
                if (!_byParticipant.TryAdd(key, [connection]))
                {
                    continue;
                }
            }
            else if (existing.Length >= max)
            {
                return false;
            }
            else if (!_byParticipant.TryUpdate(key, [.. existing, connection], existing))
            {
                continue;
            }

            Interlocked.Increment(ref _count);
            Kefu.Grains.Telemetry.KefuMetrics.ConnectionOpened(connection.Caller);
            return true;
        }
    }

    public void Remove(ChatConnection connection)
    {
        var key = connection.ParticipantKey;
        while (_byParticipant.TryGetValue(key, out var existing))
        {
            if (Array.IndexOf(existing, connection) < 0)
            {
                return;
            }

            var removed = existing.Length == 1
                ? _byParticipant.TryRemove(new KeyValuePair<string, ChatConnection[]>(key, existing))
                : _byParticipant.TryUpdate(key, [.. existing.Where(c => c != connection)], existing);
            if (removed)
            {
                Interlocked.Decrement(ref _count);
                Kefu.Grains.Telemetry.KefuMetrics.ConnectionClosed(connection.Caller);
                return;
            }
        }
    }

    public ChatConnection[] Get(string participantKey) =>
        _byParticipant.TryGetValue(participantKey, out var connections) ? connections : [];

    public IEnumerable<ChatConnection[]> ByParticipant() => _byParticipant.Values;
}
