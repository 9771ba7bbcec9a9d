using System.Collections.Concurrent;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Push;

/// <summary>
/// The silo's push path to gateways. Grains enqueue without waiting; one lane per gateway sends whatever has
/// accumulated as one batch and waits for it before sending the next, so batches grow under load (fewer, larger
/// calls) and each gateway sees this silo's events in the order they were enqueued. A gateway that is gone has its
/// events dropped: clients recover anything missed with <c>sync</c>.
/// </summary>
public sealed partial class GatewayPusher(IGrainFactory grainFactory, LocalGateways localGateways, ILogger<GatewayPusher> logger)
{
    internal const int MaxBatch = 512;
    internal const int MaxQueued = 100_000;

    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly IGrainFactory _grainFactory = grainFactory;
    private readonly ILogger _logger = logger;

    public void Push(string gatewayId, PushEnvelope envelope)
    {
        if (localGateways.TryGet(gatewayId, out var local))
        {
            try
            {
                // Same process: the observer only enqueues on connections, so call it right here, in order.
                local.Deliver([envelope]);
            }
            catch (Exception ex)
            {
                LogDeliveryFailed(_logger, ex, gatewayId, 1);
            }

            return;
        }

        var lane = _lanes.GetOrAdd(gatewayId, static (id, pusher) => new Lane(id, pusher), this);
        lane.Enqueue(envelope);
    }

    private sealed class Lane(string gatewayId, GatewayPusher pusher)
    {
        private readonly ConcurrentQueue<PushEnvelope> _queue = new();
        private int _pumping;
        private int _count;
        private IGatewayObserver? _observer;

        public void Enqueue(PushEnvelope envelope)
        {
            if (Interlocked.Increment(ref _count) > MaxQueued)
            {
                // The gateway is not keeping up (or is dying): shed the oldest; clients re-sync what they miss.
                if (_queue.TryDequeue(out _))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            _queue.Enqueue(envelope);
            if (Interlocked.CompareExchange(ref _pumping, 1, 0) == 0)
            {
                _ = Task.Run(PumpAsync);
            }
        }

        private async Task PumpAsync()
        {
            while (true)
            {
                while (!_queue.IsEmpty)
                {
                    var batch = new List<PushEnvelope>(Math.Min(_count, MaxBatch));
                    while (batch.Count < MaxBatch && _queue.TryDequeue(out var item))
                    {
                        batch.Add(item);
                    }

                    Interlocked.Add(ref _count, -batch.Count);
                    await SendAsync([.. batch]);
                }

                Volatile.Write(ref _pumping, 0);
                // An item may have arrived after the queue looked empty but before the flag was cleared.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _pumping, 1, 0) != 0)
                {
                    return;
                }
            }
        }

        private async Task SendAsync(PushEnvelope[] batch)
        {
            try
            {
                _observer ??= await pusher._grainFactory.GetGrain<IGatewayGrain>(gatewayId).GetObserver();
                if (_observer is null)
                {
                    LogGatewayGone(pusher._logger, gatewayId, batch.Length);
                    return;
                }

                await _observer.Deliver(batch);
            }
            catch (Exception ex)
            {
                _observer = null;
                LogDeliveryFailed(pusher._logger, ex, gatewayId, batch.Length);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Gateway {GatewayId} is not registered; dropped {Count} events")]
    private static partial void LogGatewayGone(ILogger logger, string gatewayId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Push to gateway {GatewayId} failed; dropped {Count} events (clients re-sync)")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, string gatewayId, int count);
}
