using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;

namespace Kefu.Grains.Storage;

/// <summary>
/// The embedded-mode store: process memory, so "durable" lasts as long as the process. Events given with a message
/// go to the in-memory outbox right after it (nothing can fail in between).
/// </summary>
public sealed class InMemoryMessageStore(IEventLog? events = null) : IMessageStore
{
    private readonly ConcurrentDictionary<string, List<ChatMessage>> _logs = new(StringComparer.Ordinal);

    /// <summary>Per conversation, how many of its first messages retention removed: the list's index is seq − 1 − this.</summary>
    private readonly ConcurrentDictionary<string, long> _pruned = new(StringComparer.Ordinal);

    public ValueTask AppendAsync(string tenant, ChatMessage message, CancellationToken cancellationToken = default) =>
        AppendAsync(tenant, message, [], cancellationToken);

    public ValueTask AppendAsync(string tenant, ChatMessage message, IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default)
    {
        Append(tenant, message);
        if (events.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        return _events?.AppendAsync(events, cancellationToken)
            ?? ValueTask.FromException(new InvalidOperationException("This store has no event log for the message's events."));
    }

    private readonly IEventLog? _events = events;

    private void Append(string tenant, ChatMessage message)
    {
        var key = Key(tenant, message.ConversationId);
        var log = _logs.GetOrAdd(key, static _ => []);
        lock (log)
        {
            var last = log.Count + _pruned.GetValueOrDefault(key);
            if (message.Seq != last + 1)
            {
                throw new MessageStoreConflictException(
                    $"Conversation {message.ConversationId} has {last} messages; seq {message.Seq} cannot be appended.");
            }

            log.Add(message);
        }
    }

    public ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(string tenant, string conversationId, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        if (!_logs.TryGetValue(Key(tenant, conversationId), out var log) || limit <= 0)
        {
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>([]);
        }

        lock (log)
        {
            var start = (int)Math.Clamp(afterSeq - _pruned.GetValueOrDefault(Key(tenant, conversationId)), 0, log.Count);
            var count = Math.Min(limit, log.Count - start);
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>(log.GetRange(start, count));
        }
    }

    public ValueTask<IReadOnlyList<ChatMessage>> ReadLatestAsync(string tenant, string conversationId, int count, CancellationToken cancellationToken = default)
    {
        if (!_logs.TryGetValue(Key(tenant, conversationId), out var log) || count <= 0)
        {
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>([]);
        }

        lock (log)
        {
            var take = Math.Min(count, log.Count);
            return ValueTask.FromResult<IReadOnlyList<ChatMessage>>(log.GetRange(log.Count - take, take));
        }
    }

    public ValueTask<long> DeleteConversationAsync(string tenant, string conversationId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_logs.TryRemove(Key(tenant, conversationId), out var log) ? (long)log.Count : 0L);

    public ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default)
    {
        var prefix = string.Concat(tenant, "/");
        var deleted = 0;
        foreach (var (key, log) in _logs)
        {
            if (deleted >= limit || !key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            lock (log)
            {
                // Messages are in time order within a conversation, so what is old is a prefix. The newest message is
                // blanked instead of removed: it anchors the conversation's last seq (see RetentionAnchor).
                var old = 0;
                while (old < log.Count - 1 && old < limit - deleted && log[old].Ts < before)
                {
                    old++;
                }

                if (old > 0)
                {
                    log.RemoveRange(0, old);
                    _pruned.AddOrUpdate(key, old, (_, n) => n + old);
                    deleted += old;
                }

                if (log.Count == 1 && deleted < limit && log[0].Ts < before && !RetentionAnchor.Is(log[0]))
                {
                    log[0] = RetentionAnchor.Of(log[0]);
                    deleted++;
                }
            }
        }

        return ValueTask.FromResult(deleted);
    }

    private static string Key(string tenant, string conversationId) => string.Concat(tenant, "/", conversationId);
}
