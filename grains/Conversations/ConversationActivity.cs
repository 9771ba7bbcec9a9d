using System.Text;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>
/// What the conversation list shows about a conversation's messages: the last visitor or agent message as a short
/// preview, when it was written, and how many visitor messages the agents have not read. Derived from the messages
/// (and rebuilt from the store's latest messages on activation), so it is never persisted as grain state; the
/// directory row keeps it for the list.
/// </summary>
internal sealed class ConversationActivity
{
    public const int MaxPreviewLength = 140;

    /// <summary>Visitor messages remembered by seq; beyond this the unread count is an upper bound (shown as "many").</summary>
    internal const int MaxTrackedUnread = 1_000;

    /// <summary>Seqs of visitor messages after the agents' read mark, oldest first, at most <see cref="MaxTrackedUnread"/>.</summary>
    private readonly Queue<long> _unreadSeqs = new();

    /// <summary>Unread visitor messages older than those in <see cref="_unreadSeqs"/> (dropped to bound memory).</summary>
    private long _olderUnread;

    private long _agentsReadMark;

    public string? Preview { get; private set; }

    /// <summary>The time of the last visitor or agent message; null before the first.</summary>
    public DateTimeOffset? LastActivityAt { get; private set; }

    public int Unread => (int)Math.Min(int.MaxValue, _unreadSeqs.Count + _olderUnread);

    /// <summary>Starts from the agents' persisted read mark; the messages follow through <see cref="Add"/>.</summary>
    public ConversationActivity(long agentsReadMark = 0) => _agentsReadMark = agentsReadMark;

    /// <summary>A stored message, in seq order. System (away) and bot text never becomes the preview.</summary>
    public void Add(ChatMessage message)
    {
        switch (message.Sender.Role)
        {
            case ParticipantRole.Visitor:
                Preview = PreviewOf(message);
                LastActivityAt = message.Ts;
                if (message.Seq > _agentsReadMark)
                {
                    _unreadSeqs.Enqueue(message.Seq);
                    if (_unreadSeqs.Count > MaxTrackedUnread)
                    {
                        _unreadSeqs.Dequeue();
                        _olderUnread++;
                    }
                }

                break;

            case ParticipantRole.Agent:
                Preview = PreviewOf(message);
                LastActivityAt = message.Ts;
                AgentsRead(message.Seq); // an agent who replies has read what came before
                break;
        }
    }

    /// <summary>An agent's read mark moved to <paramref name="seq"/>; the agents' mark is the highest of them.</summary>
    public void AgentsRead(long seq)
    {
        if (seq <= _agentsReadMark)
        {
            return;
        }

        _agentsReadMark = seq;
        while (_unreadSeqs.TryPeek(out var head) && head <= seq)
        {
            _unreadSeqs.Dequeue();
        }

        // The dropped older ones all lie before the oldest tracked one: none is left unread when the mark reached it,
        // and never more than the seqs between the mark and it.
        _olderUnread = _unreadSeqs.TryPeek(out var oldestTracked)
            ? Math.Max(0, Math.Min(_olderUnread, oldestTracked - 1 - seq))
            : 0;
    }

    /// <summary>The preview by content kind: an attachment previews as its file name, anything else as its text.</summary>
    internal static string PreviewOf(ChatMessage message) => message.Content switch
    {
        AttachmentContent attachment => PreviewOf(attachment.Name),
        _ => PreviewOf(message.Text),
    };

    /// <summary>
    /// The text as one line of at most <see cref="MaxPreviewLength"/> characters; text in the legacy attachment form
    /// (docs/protocol.md §3.5) previews as its file name.
    /// </summary>
    internal static string PreviewOf(string text)
    {
        if (MessageContentRules.TryParseLegacy(text, out var attachment))
        {
            text = attachment.Name;
        }

        var builder = new StringBuilder(Math.Min(text.Length, MaxPreviewLength + 1));
        var pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
            if (builder.Length > MaxPreviewLength)
            {
                break;
            }
        }

        if (builder.Length <= MaxPreviewLength)
        {
            return builder.ToString();
        }

        // Cut with an ellipsis, never between the halves of a surrogate pair.
        var cut = MaxPreviewLength - 1;
        if (char.IsHighSurrogate(builder[cut - 1]))
        {
            cut--;
        }

        return builder.ToString(0, cut) + "…";
    }
}
