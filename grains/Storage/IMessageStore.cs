using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Storage;

/// <summary>
/// The durable message log. A completed <see cref="AppendAsync"/> means the message is durable in the configured store;
/// the conversation grain acks and pushes only after that. (tenant, conversation, seq) is unique: appending a seq
/// that exists fails.
/// </summary>
public interface IMessageStore
{
    ValueTask AppendAsync(string tenant, ChatMessage message, CancellationToken cancellationToken = default) =>
        AppendAsync(tenant, message, [], cancellationToken);

    /// <summary>
    /// Appends the message and stores <paramref name="events"/> (its message.created event, and any earlier events of
    /// the conversation still to be relayed) in the outbox in the same commit: both or neither.
    /// </summary>
    ValueTask AppendAsync(string tenant, ChatMessage message, IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default);

    /// <summary>Messages with seq greater than <paramref name="afterSeq"/>, ascending, at most <paramref name="limit"/>.</summary>
    ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(string tenant, string conversationId, long afterSeq, int limit, CancellationToken cancellationToken = default);

    /// <summary>The newest <paramref name="count"/> messages, ascending; the last one carries the conversation's last seq.</summary>
    ValueTask<IReadOnlyList<ChatMessage>> ReadLatestAsync(string tenant, string conversationId, int count, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every message of the conversation (a contact's erasure, docs/data-protection.md); returns how many.
    /// Idempotent: a second call finds none. The conversation must not take new messages (its grain erased first).
    /// </summary>
    ValueTask<long> DeleteConversationAsync(string tenant, string conversationId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} cannot delete a conversation's messages.");

    /// <summary>
    /// Retention (issue #20): deletes at most <paramref name="limit"/> of the tenant's messages created before
    /// <paramref name="before"/> and returns how many. A conversation keeps its seq numbering: later appends continue
    /// after its last seq, and reads simply start at the oldest message left.
    /// </summary>
    ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default);
}

public sealed class MessageStoreConflictException(string message) : Exception(message);
