using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Events.Sinks;

namespace Kefu.Grains.Tests.Events;

/// <summary>The directory's group commit: rows due while a batch is written share the next statement.</summary>
public sealed class DirectoryBatcherTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RowsHandedOverWhileABatchIsWrittenGoTogetherInTheNext()
    {
        var directory = new GatedDirectory();
        var batcher = new DirectoryBatcher(directory);
        var first = batcher.WriteAsync(Summary("c1"));
        await directory.Started.WaitAsync(TimeSpan.FromSeconds(10)); // c1 alone, held in the database

        var rest = Enumerable.Range(2, 4).Select(i => batcher.WriteAsync(Summary($"c{i}"))).ToArray();
        Assert.False(first.IsCompleted);
        directory.Release();
        await Task.WhenAll([first, .. rest]).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([["c1"], ["c2", "c3", "c4", "c5"]], directory.Calls);
        Assert.Equal(2, batcher.Batches);
    }

    [Fact]
    public async Task ABatchIsNeverLargerThanTheLimit()
    {
        var directory = new GatedDirectory();
        var batcher = new DirectoryBatcher(directory, maxBatch: 2);
        var writes = new List<Task> { batcher.WriteAsync(Summary("c0")) };
        await directory.Started.WaitAsync(TimeSpan.FromSeconds(10));
        writes.AddRange(Enumerable.Range(1, 5).Select(i => batcher.WriteAsync(Summary($"c{i}"))));
        directory.Release();
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([["c0"], ["c1", "c2"], ["c3", "c4"], ["c5"]], directory.Calls);
    }

    [Fact]
    public async Task AFailedBatchFailsEachOfItsRowsAndTheNextOneIsWritten()
    {
        var directory = new GatedDirectory { FailNext = true };
        var batcher = new DirectoryBatcher(directory);
        directory.Release();
        var failed = batcher.WriteAsync(Summary("c1"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed.WaitAsync(TimeSpan.FromSeconds(10)));

        await batcher.WriteAsync(Summary("c1")).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["c1"], directory.Calls[^1]);
        Assert.Equal(1, batcher.Batches);
    }

    private static ConversationSummary Summary(string id) =>
        new(id, "t", "default", "v1", null, ConversationStatus.Open, null, 1, T0, []);

    /// <summary>Records each batch; the first waits until released, so the test controls what queues behind it.</summary>
    private sealed class GatedDirectory : IConversationDirectory
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string[]> Calls { get; } = [];

        public bool FailNext { get; set; }

        public Task Started => _started.Task;

        public void Release() => _gate.TrySetResult();

        public ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The batcher writes through UpsertManyAsync.");

        public async ValueTask UpsertManyAsync(IReadOnlyList<ConversationSummary> summaries, CancellationToken cancellationToken = default)
        {
            lock (Calls)
            {
                Calls.Add([.. summaries.Select(s => s.ConversationId)]);
            }

            _started.TrySetResult();
            await _gate.Task;
            if (FailNext)
            {
                FailNext = false;
                throw new InvalidOperationException("The database is down.");
            }
        }

        public ValueTask<IReadOnlyList<ConversationSummary>> ListAsync(string tenant, ConversationQuery query, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }
}
