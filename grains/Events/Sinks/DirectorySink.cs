using System.Collections.Concurrent;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Events.Sinks;

/// <summary>
/// Keeps each conversation's directory row (the conversation list) following its changes, in the background and
/// never on the send path. A change with a lifecycle event (status, assignee, tags, …) is written at once; changes
/// that only move what the list shows about messages (preview, last activity, unread, read marks, queue position)
/// at most once per <see cref="ConversationOptions.DirectoryWriteInterval"/> per conversation: in cluster mode a row
/// write is a MySQL statement, and a busy chat sends many messages a second. Each write carries the newest summary,
/// one write per conversation is in flight at a time (so rows never go back in time), and a failed write is retried
/// after the interval. A note changes nothing the list shows. The rows due at the same time are written together
/// (<see cref="DirectoryBatcher"/>: one statement for many conversations in cluster mode).
/// </summary>
public sealed partial class DirectorySink(
    IConversationDirectory directory,
    IOptions<ConversationOptions> options,
    TimeProvider time,
    ILogger<DirectorySink> logger) : IConversationEventSink, IAsyncDisposable
{
    // Keyed by (tenant, conversation id): no key string built per message.
    private readonly ConcurrentDictionary<(string Tenant, string Id), Row> _rows = new();
    private readonly DirectoryBatcher _batcher = new(directory);
    private readonly TimeSpan _interval = options.Value.DirectoryWriteInterval;

    public void OnCommitted(CommittedChange change)
    {
        var urgent = false;
        var listChanged = change.Events.Count == 0; // a read mark or queue position: the row shows those
        foreach (var e in change.Events)
        {
            switch (e.Data)
            {
                case NoteCreated:
                    break;
                case MessageCreated:
                    listChanged = true;
                    break;
                default:
                    listChanged = urgent = true;
                    break;
            }
        }

        if (listChanged)
        {
            Changed(change.Summary, urgent);
        }
    }

    /// <summary>Conversations the sink remembers (changed within the last interval): for tests.</summary>
    internal int Remembered => _rows.Count;

    /// <summary>Writes running or about to settle their next time: for tests, which advance the clock only after.</summary>
    internal int Writing => _rows.Values.Count(r => r.Writing);

    /// <summary>Writes everything still dirty now (shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        foreach (var row in _rows.Values)
        {
            lock (row)
            {
                if (!row.Dirty || row.Writing)
                {
                    continue;
                }

                row.Urgent = true;
            }

            await WriteAsync(row, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await FlushAsync(timeout.Token);
        }
        catch (Exception ex)
        {
            LogFlushFailed(logger, ex);
        }

        foreach (var row in _rows.Values)
        {
            row.Timer?.Dispose();
        }
    }

    private void Changed(ConversationSummary summary, bool urgent)
    {
        var key = (summary.Tenant, summary.ConversationId);
        while (true)
        {
            var row = _rows.GetOrAdd(key, static k => new Row(k));
            lock (row)
            {
                if (row.Removed)
                {
                    continue; // lost a race with its clean-up: take the new row
                }

                row.Latest = summary;
                row.Dirty = true;
                row.Urgent |= urgent;
                if (!row.Writing)
                {
                    ScheduleLocked(row);
                }

                return;
            }
        }
    }

    /// <summary>Under the row's lock, not writing: arrange the next write (or clean-up) at the right time.</summary>
    private void ScheduleLocked(Row row)
    {
        var now = time.GetUtcNow();
        var due = row.Dirty && (row.Urgent || row.LastWrite is null) ? now : (row.LastWrite ?? now) + _interval;
        if (row.Scheduled && row.DueAt <= due)
        {
            return; // already due as early
        }

        row.Timer?.Dispose();
        row.Timer = null;
        row.Scheduled = true;
        row.DueAt = due;
        var generation = ++row.Generation;
        var wait = due - now;
        if (wait <= TimeSpan.Zero)
        {
            _ = Task.Run(() => FireAsync(row, generation));
            return;
        }

        row.Timer = time.CreateTimer(static s => { var (sink, r, g) = ((DirectorySink, Row, long))s!; _ = sink.FireAsync(r, g); }, (this, row, generation), wait, Timeout.InfiniteTimeSpan);
    }

    private async Task FireAsync(Row row, long generation)
    {
        lock (row)
        {
            if (row.Generation != generation || row.Writing)
            {
                return;
            }

            row.Timer?.Dispose();
            row.Timer = null;
            row.Scheduled = false;
            if (!row.Dirty)
            {
                // Clean for a whole interval: forget it (the next change writes at once again).
                row.Removed = true;
                _rows.TryRemove(KeyValuePair.Create(row.Key, row));
                return;
            }
        }

        await WriteAsync(row, CancellationToken.None);
    }

    private async Task WriteAsync(Row row, CancellationToken cancellationToken)
    {
        ConversationSummary summary;
        lock (row)
        {
            if (row.Writing || !row.Dirty || row.Latest is null)
            {
                return;
            }

            row.Writing = true;
            row.Dirty = false;
            row.Urgent = false;
            summary = row.Latest;
        }

        var failed = false;
        try
        {
            // Together with every other row due now: one statement for many conversations (DirectoryBatcher).
            await _batcher.WriteAsync(summary, cancellationToken);
        }
        catch (Exception ex)
        {
            // Retried after the interval, with whatever is newest then.
            LogWriteFailed(logger, ex, summary.ConversationId);
            failed = true;
        }

        lock (row)
        {
            row.Writing = false;
            row.LastWrite = time.GetUtcNow();
            if (failed)
            {
                row.Dirty = true;
            }

            row.Timer?.Dispose();
            row.Timer = null;
            row.Scheduled = false;
            ScheduleLocked(row);
        }
    }

    /// <summary>One conversation's row: the newest summary and when it may be written next. Guarded by its own lock.</summary>
    private sealed class Row((string Tenant, string Id) key)
    {
        public (string Tenant, string Id) Key { get; } = key;

        public ConversationSummary? Latest { get; set; }

        public bool Dirty { get; set; }

        public bool Urgent { get; set; }

        public bool Writing { get; set; }

        public bool Removed { get; set; }

        public DateTimeOffset? LastWrite { get; set; }

        public DateTimeOffset DueAt { get; set; }

        public ITimer? Timer { get; set; }

        /// <summary>A write (or clean-up) will run at <see cref="DueAt"/>: by a timer, or queued to run now.</summary>
        public bool Scheduled { get; set; }

        public long Generation { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing the directory row of conversation {ConversationId} failed; retrying")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing the remaining directory rows at shutdown failed")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
