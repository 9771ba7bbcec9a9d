using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tests.Infrastructure;

/// <summary>Stands in for a gateway process: records every envelope and lets a test await a matching one.</summary>
public sealed class FakeGatewayObserver : IGatewayObserver
{
    private readonly object _gate = new();
    private readonly List<PushEnvelope> _received = [];
    private readonly List<(Func<PushEnvelope, bool> Match, TaskCompletionSource<PushEnvelope> Done)> _waiters = [];

    public IReadOnlyList<PushEnvelope> Received
    {
        get
        {
            lock (_gate)
            {
                return [.. _received];
            }
        }
    }

    public Task Deliver(PushEnvelope[] batch)
    {
        lock (_gate)
        {
            foreach (var envelope in batch)
            {
                _received.Add(envelope);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(envelope))
                    {
                        _waiters[i].Done.TrySetResult(envelope);
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The first envelope (already received or still to come) that matches, or a failure after the timeout.</summary>
    public async Task<PushEnvelope> WaitForAsync(Func<PushEnvelope, bool> match, string what, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource<PushEnvelope>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var existing = _received.FirstOrDefault(match);
            if (existing is not null)
            {
                return existing;
            }

            _waiters.Add((match, done));
        }

        try
        {
            return await done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out waiting for {what}; received: {string.Join(", ", Received.Select(e => e.Event.GetType().Name))}.");
            throw;
        }
    }
}
