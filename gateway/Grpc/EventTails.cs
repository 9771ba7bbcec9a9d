using System.Threading.Channels;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Integration;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// What one read of a tenant's shared tail found: every default-type event with <see cref="From"/> &lt; cursor ≤
/// <see cref="To"/>, in cursor order, each already wrapped as the stream message every subscriber sends (built once).
/// </summary>
public sealed record TailBatch(long From, long To, StoredEvent[] Events, SubscribeResponse[] Messages);

/// <summary>
/// The live part of gRPC Subscribe: one reader per tenant on this gateway (while it has subscribers) polls the event log
/// from its last cursor and fans each batch out to every subscriber, so 100 subscribers cost one read per interval, not
/// 100. A subscriber holds at most <see cref="KefuGrpcOptions.SubscriberBuffer"/> events waiting; one that falls further
/// behind is dropped from the tail (its subscription completes) and catches up from the log by itself before it joins
/// again. The batches carry their cursor range, so a subscriber tells a gap (read the history) from an overlap (skip what
/// it already sent): no gap and no duplicate, whatever the timing.
/// </summary>
public sealed partial class EventTails(IGrainFactory grains, IOptions<KefuGrpcOptions> options, TimeProvider time, ILogger<EventTails> logger) : IAsyncDisposable
{
    private readonly Dictionary<string, TenantTail> _tails = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();

    // For the tails (nested classes do not see primary-constructor parameters).
    private readonly IGrainFactory _grains = grains;
    private readonly IOptions<KefuGrpcOptions> _options = options;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    /// <summary>Tails running now (one per tenant with subscribers), for tests and metrics.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _tails.Count;
            }
        }
    }

    /// <summary>Total reads of the event log by all tails so far.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    private long _reads;

    /// <summary>Subscribers dropped so far for falling behind (each then caught up from the log).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    private long _dropped;

    /// <summary>
    /// Joins the tenant's tail (starting one at <paramref name="position"/> if none runs). Batches come in cursor order
    /// and contiguous; the first may start before or after <paramref name="position"/>.
    /// </summary>
    public TailSubscription Join(string tenant, long position)
    {
        lock (_gate)
        {
            if (!_tails.TryGetValue(tenant, out var tail))
            {
                _tails[tenant] = tail = new TenantTail(this, tenant, position);
                tail.Start();
            }
            else
            {
                tail.StartNoLaterThan(position);
            }

            var subscription = new TailSubscription(this, tail, Math.Max(1, _options.Value.SubscriberBuffer));
            tail.Subscribers.Add(subscription);
            return subscription;
        }
    }

    internal void Leave(TailSubscription subscription)
    {
        lock (_gate)
        {
            var tail = subscription.Tail;
            tail.Subscribers.Remove(subscription);
            if (tail.Subscribers.Count == 0 && _tails.TryGetValue(tail.Tenant, out var current) && current == tail)
            {
                // Nobody left: stop reading. The next subscriber starts a new tail at its own cursor.
                _tails.Remove(tail.Tenant);
                tail.Stop();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        TenantTail[] tails;
        lock (_gate)
        {
            tails = [.. _tails.Values];
            _tails.Clear();
        }

        await _stopping.CancelAsync();
        foreach (var tail in tails)
        {
            tail.Stop();
            await tail.Completion;
        }

        _stopping.Dispose();
    }

    private void Publish(TenantTail tail, TailBatch batch)
    {
        lock (_gate)
        {
            // Backwards, so an overflowing subscriber can be removed on the way.
            for (var i = tail.Subscribers.Count - 1; i >= 0; i--)
            {
                if (!tail.Subscribers[i].Offer(batch))
                {
                    tail.Subscribers.RemoveAt(i);
                    _dropped++;
                }
            }
        }
    }

    internal sealed class TenantTail(EventTails owner, string tenant, long position)
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(owner._stopping.Token);

        public string Tenant => tenant;

        /// <summary>Guarded by the owner's lock.</summary>
        public List<TailSubscription> Subscribers { get; } = [];

        /// <summary>Set once a read moved the tail: its position is then one the log has shown, never past the head.</summary>
        private volatile bool _moved;

        /// <summary>A lower start asked for by a subscriber while the tail had not moved yet (long.MaxValue: none).</summary>
        private long _lowerTo = long.MaxValue;

        public Task Completion { get; private set; } = Task.CompletedTask;

        /// <summary>
        /// A tail starts at its first subscriber's cursor, which may lie past the head (a made-up cursor): it would then
        /// wait there forever and hold back every other subscriber of the tenant. Until the tail has moved, a subscriber
        /// with a lower cursor moves its start down. (Reading from lower is always safe: subscribers skip what they had.)
        /// </summary>
        public void StartNoLaterThan(long position)
        {
            if (_moved)
            {
                return;
            }

            long current;
            do
            {
                current = Interlocked.Read(ref _lowerTo);
                if (position >= current)
                {
                    return;
                }
            }
            while (Interlocked.CompareExchange(ref _lowerTo, position, current) != current);
        }

        public void Start() => Completion = Task.Run(RunAsync);

        public void Stop()
        {
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The loop has already ended (the gateway is stopping).
            }
        }

        private async Task RunAsync()
        {
            var settings = owner._options.Value;
            var pageSize = Math.Clamp(settings.PageSize, 1, 500);
            var log = owner._grains.GetGrain<IEventLogGrain>(tenant);
            var failing = false;
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var full = false;
                    var lower = Interlocked.Exchange(ref _lowerTo, long.MaxValue);
                    if (lower < position)
                    {
                        position = lower;
                    }

                    try
                    {
                        var page = await log.Read(position, null, pageSize).WaitAsync(_stop.Token);
                        Interlocked.Increment(ref owner._reads);
                        failing = false;
                        var to = page.Events.Length > 0 ? Math.Max(page.Next, page.Events[^1].Cursor) : page.Next;
                        if (to > position)
                        {
                            var messages = Array.ConvertAll<StoredEvent, SubscribeResponse>(page.Events, static e => new SubscribeResponse { Event = EventProto.ToProto(e) });
                            owner.Publish(this, new TailBatch(position, to, page.Events, messages));
                            position = to;
                            full = page.Events.Length == pageSize;
                            _moved = true;
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // The silos may be restarting: subscribers keep their cursor and get heartbeats; try again. Logged
                        // once per outage, not once per poll.
                        if (!failing)
                        {
                            LogTailReadFailed(owner._logger, tenant, ex);
                        }

                        failing = true;
                    }

                    // A full page means more is waiting: read on at once.
                    if (!full)
                    {
                        await Task.Delay(settings.PollInterval, owner._time, _stop.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            finally
            {
                _stop.Dispose();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The gRPC event tail of tenant {Tenant} could not read the event log; retrying")]
    private static partial void LogTailReadFailed(ILogger logger, string tenant, Exception exception);
}

/// <summary>
/// One subscriber's place on a tenant's tail: the batches not yet sent, at most a bounded number of events. Completes
/// (<see cref="ReadAsync"/> returns null) when the subscriber fell too far behind and was dropped.
/// </summary>
public sealed class TailSubscription : IDisposable
{
    private readonly EventTails _owner;
    private readonly int _capacity;
    private readonly Channel<TailBatch> _batches = Channel.CreateUnbounded<TailBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private int _pending;
    private int _disposed;

    internal TailSubscription(EventTails owner, EventTails.TenantTail tail, int capacity)
    {
        _owner = owner;
        Tail = tail;
        _capacity = capacity;
    }

    internal EventTails.TenantTail Tail { get; }

    /// <summary>Called by the tail under its lock; false when this subscriber is full and is dropped.</summary>
    internal bool Offer(TailBatch batch)
    {
        var pending = Interlocked.Add(ref _pending, batch.Events.Length);

        // At least one batch always fits, whatever its size.
        if (pending > _capacity && pending > batch.Events.Length)
        {
            _batches.Writer.TryComplete();
            return false;
        }

        return _batches.Writer.TryWrite(batch);
    }

    /// <summary>The next batch; null when none came within <paramref name="wait"/> (check <see cref="Completed"/>).</summary>
    public async ValueTask<TailBatch?> ReadAsync(TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!_batches.Reader.TryRead(out var batch))
        {
            using var timeout = new CancellationTokenSource(wait, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                if (!await _batches.Reader.WaitToReadAsync(linked.Token) || !_batches.Reader.TryRead(out batch))
                {
                    Completed = true;
                    return null;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }

        Interlocked.Add(ref _pending, -batch.Events.Length);
        return batch;
    }

    /// <summary>The tail will send nothing more (this subscriber was dropped): join again.</summary>
    public bool Completed { get; private set; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Leave(this);
        }
    }
}
