using System.Collections.Concurrent;

namespace Kefu.Gateway.WebSockets;

/// <summary>This gateway's open connections, by participant key ("{tenant}/{role}/{id}").</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, ChatConnection[]> _byParticipant = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(ChatConnection connection)
    {
        _byParticipant.AddOrUpdate(connection.ParticipantKey, static (_, c) => [c], static (_, existing, c) => [.. existing, c], connection);
        Interlocked.Increment(ref _count);
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
                return;
            }
        }
    }

    public ChatConnection[] Get(string participantKey) =>
        _byParticipant.TryGetValue(participantKey, out var connections) ? connections : [];

    public IEnumerable<ChatConnection[]> ByParticipant() => _byParticipant.Values;
}
