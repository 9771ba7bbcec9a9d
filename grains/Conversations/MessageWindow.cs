using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>
/// A conversation's view of its newest messages: the last seq, a window of recent messages (served without a store
/// read) and the acks of recent sends by (sender, clientMsgId), so a retry inside the idempotency window gets the
/// original ack and creates nothing. Rebuilt from the store on activation (the store is the only truth, see
/// docs/architecture.md), never persisted.
/// </summary>
internal sealed class MessageWindow(int recentWindow, int idempotencyWindow)
{
    private readonly List<ChatMessage> _recent = [];
    private readonly Dictionary<AckKey, SendAck> _acks = [];
    private readonly Queue<AckKey> _ackOrder = new();

    public long LastSeq { get; private set; }

    /// <summary>How many stored messages a rebuild must read to answer every retry inside the windows.</summary>
    public int RebuildCount => Math.Max(recentWindow, idempotencyWindow);

    /// <summary>Forgets everything (before a rebuild from the store).</summary>
    public void Clear()
    {
        _recent.Clear();
        _acks.Clear();
        _ackOrder.Clear();
        LastSeq = 0;
    }

    public bool TryGetAck(ParticipantRole role, string senderId, string clientMsgId, out SendAck ack) =>
        _acks.TryGetValue(new AckKey(role, senderId, clientMsgId), out ack!);

    /// <summary>A stored message, in seq order: it is the newest now; returns its ack.</summary>
    public SendAck Remember(ChatMessage message)
    {
        LastSeq = message.Seq;
        _recent.Add(message);

        // Trimmed in bulk: one copy per window's worth of messages, not one per message.
        if (_recent.Count >= 2 * recentWindow)
        {
            _recent.RemoveRange(0, _recent.Count - recentWindow);
        }

        var ack = new SendAck(message.ClientMsgId ?? string.Empty, message.ConversationId, message.MessageId, message.Seq, message.Ts);
        if (message.ClientMsgId is { } clientMsgId)
        {
            var key = new AckKey(message.Sender.Role, message.Sender.Id, clientMsgId);
            if (_acks.TryAdd(key, ack))
            {
                _ackOrder.Enqueue(key);
                while (_ackOrder.Count > idempotencyWindow)
                {
                    _acks.Remove(_ackOrder.Dequeue());
                }
            }
        }

        return ack;
    }

    /// <summary>After a rebuild: keep only the recent window of what was read.</summary>
    public void Trim()
    {
        if (_recent.Count > recentWindow)
        {
            _recent.RemoveRange(0, _recent.Count - recentWindow);
        }
    }

    /// <summary>
    /// Messages after <paramref name="afterSeq"/> (at most <paramref name="limit"/>) when the window holds them;
    /// null when they are older than the window (read them from the store).
    /// </summary>
    public ChatMessage[]? After(long afterSeq, int limit)
    {
        if (afterSeq >= LastSeq)
        {
            return [];
        }

        var firstRecent = _recent.Count > 0 ? _recent[0].Seq : LastSeq + 1;
        if (afterSeq + 1 < firstRecent)
        {
            return null;
        }

        var start = (int)(afterSeq + 1 - firstRecent);
        var count = Math.Min(limit, _recent.Count - start);
        return [.. _recent.GetRange(start, count)];
    }

    /// <summary>A send's identity for retries: the sender (the grain's own tenant) and its clientMsgId. A struct key,
    /// so remembering a send allocates no key string (this window holds thousands per busy conversation).</summary>
    private readonly record struct AckKey(ParticipantRole Role, string SenderId, string ClientMsgId);
}
