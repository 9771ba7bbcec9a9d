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
        var log = _logs.GetOrAdd(Key(tenant, message.ConversationId), static _ => []);
        lock (log)
        {
            if (message.Seq != log.Count + 1)
            {
                throw new MessageStoreConflictException(
                    $"Conversation {message.ConversationId} has {log.Count} messages; seq {message.Seq} cannot be appended.");
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
            var start = (int)Math.Clamp(afterSeq, 0, log.Count);
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

    private static string Key(string tenant, string conversationId) => string.Concat(tenant, "/", conversationId);
}
