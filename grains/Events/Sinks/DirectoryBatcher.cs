using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;

namespace Kefu.Grains.Events.Sinks;

/// <summary>
/// Group commit for directory rows: rows handed over while a batch is being written wait and go together in the next
/// one (<see cref="IConversationDirectory.UpsertManyAsync"/>, one statement in cluster mode). Idle, a row is written at
/// once; under load batches grow instead of statements: a silo with thousands of busy conversations writes a few
/// statements a second, not one per conversation. One batch is in flight at a time, so a slow database is never
/// given more than one statement by this silo's directory. The caller hands over each conversation at most once at a
/// time (the sink's one-write-per-row rule), so a batch never holds one conversation twice.
/// </summary>
public sealed class DirectoryBatcher(IConversationDirectory directory, int maxBatch = DirectoryBatcher.DefaultMaxBatch)
{
    /// <summary>Rows per statement: ~27 parameters each; 200 keeps a statement well under any packet limit.</summary>
    public const int DefaultMaxBatch = 200;

    private readonly Lock _gate = new();
    private readonly List<Pending> _queue = [];
    private bool _draining;
    private long _batches;

    /// <summary>Statements written so far (for tests and benchmarks).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Completes when the row is written; faults when its batch failed (the caller retries it later).</summary>
    public Task WriteAsync(ConversationSummary summary, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(summary, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        bool start;
        lock (_gate)
        {
            _queue.Add(pending);
            start = !_draining;
            _draining = true;
        }

        if (start)
        {
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }

        return pending.Written.Task.WaitAsync(cancellationToken);
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            Pending[] batch;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _draining = false;
                    return;
                }

                var take = Math.Min(_queue.Count, maxBatch);
                batch = [.. _queue.GetRange(0, take)];
                _queue.RemoveRange(0, take);
            }

            try
            {
                await directory.UpsertManyAsync(Array.ConvertAll(batch, p => p.Summary), CancellationToken.None);
                Interlocked.Increment(ref _batches);
                foreach (var pending in batch)
                {
                    pending.Written.TrySetResult();
                }
            }
            catch (Exception ex)
            {
                foreach (var pending in batch)
                {
                    pending.Written.TrySetException(ex);
                }
            }
        }
    }

    private sealed record Pending(ConversationSummary Summary, TaskCompletionSource Written);
}
