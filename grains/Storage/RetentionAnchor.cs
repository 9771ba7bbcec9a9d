using Kefu.Contracts.Messages;

namespace Kefu.Grains.Storage;

/// <summary>
/// What retention leaves of a conversation's newest message once it is older than the cutoff: the row with its seq, id,
/// sender and time, but no text, no typed content and no sender name. The conversation grain rebuilds its last seq from
/// the newest stored message when it activates; deleting that message too would restart the conversation at seq 1
/// and break every client's sync cursor, so the newest one stays as this empty anchor.
/// </summary>
public static class RetentionAnchor
{
    public static ChatMessage Of(ChatMessage message) =>
        message with { Text = string.Empty, Content = null, Sender = message.Sender with { Name = null } };

    public static bool Is(ChatMessage message) => message.Text.Length == 0 && message.Content is null;
}
