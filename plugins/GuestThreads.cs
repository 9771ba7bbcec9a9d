using System.Collections.Concurrent;

namespace Kefu.Plugins;

/// <summary>
/// The threads guest code runs on: the process's own few, apart from the .NET thread pool. Orleans and Kestrel run on
/// the pool; a guest call blocks its thread until it returns (Wasmtime has no async API), so guests on pool threads could
/// starve the silo — a misbehaving tenant's plugins would slow everyone's chats until the pool slowly grew. Here they
/// can only keep these threads busy, and <see cref="PluginEngine"/>'s gate keeps no more calls running than there are threads.
/// </summary>
internal sealed class GuestThreads : IDisposable
{
    private readonly BlockingCollection<Action> work = new();
    private readonly Thread[] threads;

    public GuestThreads(int count)
    {
        threads = new Thread[Math.Max(1, count)];
        for (var i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(Work) { IsBackground = true, Name = $"kefu-plugin-guest-{i}" };
            threads[i].Start();
        }
    }

    public int Count => threads.Length;

    /// <summary>Runs <paramref name="call"/> on a guest thread; the task completes off that thread.</summary>
    public Task<T> Run<T>(Func<T> call)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        work.Add(() =>
        {
            try
            {
                done.SetResult(call());
            }
#pragma warning disable CA1031 // handed to the awaiting caller, never lost on this thread
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    private void Work()
    {
        foreach (var item in work.GetConsumingEnumerable())
            item();
    }

    public void Dispose()
    {
        work.CompleteAdding();
        foreach (var thread in threads)
            thread.Join(TimeSpan.FromSeconds(5));
        work.Dispose();
    }
}
