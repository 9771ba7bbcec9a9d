using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Conversations;

/// <summary>
/// The conversation's directory row follows its messages (preview, last activity, unread) with coalesced writes:
/// summary changes write at once (PublishChangedAsync), messages at most once per
/// <see cref="Hosting.ConversationOptions.DirectoryWriteInterval"/>, from a timer rather than the send path, and
/// whatever is left is written when the grain deactivates.
/// </summary>
public sealed partial class ConversationGrain
{
    private ConversationActivity _activity = new();
    private DirectoryWriteCoalescer? _directoryWrites;
    private IGrainTimer? _directoryTimer;

    private DirectoryWriteCoalescer DirectoryWrites => _directoryWrites ??= new DirectoryWriteCoalescer(_options.DirectoryWriteInterval);

    /// <summary>The highest read mark of the conversation's agents: what "unread" counts from.</summary>
    private long AgentsReadMark()
    {
        var agentPrefix = Contracts.Identity.ParticipantKeys.Key(_tenant, ParticipantRole.Agent, string.Empty);
        long mark = 0;
        foreach (var (key, seq) in state.State.ReadMarks)
        {
            if (seq > mark && key.StartsWith(agentPrefix, StringComparison.Ordinal))
            {
                mark = seq;
            }
        }

        return mark;
    }

    /// <summary>A stored message changed what the list shows: write the row soon (coalesced).</summary>
    private void ActivityChanged()
    {
        if (!state.State.Created || DirectoryWrites.Changed(time.GetUtcNow()) is not { } wait)
        {
            return;
        }

        _directoryTimer?.Dispose();
        _directoryTimer = this.RegisterGrainTimer(
            static (self, _) => self.FlushDirectoryAsync(),
            this,
            new GrainTimerCreationOptions(wait, Timeout.InfiniteTimeSpan) { KeepAlive = false });
    }

    private async Task FlushDirectoryAsync()
    {
        _directoryTimer?.Dispose();
        _directoryTimer = null;
        if (!DirectoryWrites.Due())
        {
            return;
        }

        try
        {
            await directory.UpsertAsync(Summary());
            DirectoryWrites.Written(time.GetUtcNow());
        }
        catch (Exception ex)
        {
            // Still dirty: the next message schedules another write, and deactivation tries once more.
            LogDirectoryWriteFailed(logger, ex, _id);
        }
    }

    /// <summary>On deactivation: the row gets what the coalescing held back.</summary>
    private async Task FlushDirectoryOnDeactivateAsync(CancellationToken cancellationToken)
    {
        if (_directoryWrites is not { Dirty: true } || !state.State.Created)
        {
            return;
        }

        try
        {
            await directory.UpsertAsync(Summary(), cancellationToken);
            _directoryWrites.Written(time.GetUtcNow());
        }
        catch (Exception ex)
        {
            // The list shows the previous preview until the conversation's next write.
            LogDirectoryWriteFailed(logger, ex, _id);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: writing its directory row failed")]
    private static partial void LogDirectoryWriteFailed(ILogger logger, Exception exception, string conversationId);
}
