using System.Diagnostics;
using System.Text.Json;
using HdrHistogram;

namespace Kefu.Benchmarks;

/// <summary>
/// Idle connections: open many visitor WebSockets (several per visitor), hold them, ping a sample periodically and
/// report how many are still open at the end.
/// </summary>
internal sealed class IdleRun(BenchmarkOptions options, Uri[] urls)
{
    private readonly Metrics _metrics = new();
    private readonly LongHistogram _pingRoundTrip = new(600_000_000, 3);
    private readonly Lock _lock = new();
    private Idle?[] _connections = [];
    private string _phase = "setup";
    private long _pingsSent;

    /// <summary>Makes the delivery sample's clientMsgIds unique to this run (several generators, repeated runs).</summary>
    private readonly string _runTag = Guid.NewGuid().ToString("N")[..8];

    public async Task<IdleResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = options;
        using var invoker = ClientConnection.CreateInvoker(o.SourceAddresses, o.SourceAddressFirst);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var progressCts = new CancellationTokenSource();
        var progress = ProgressAsync(progressCts.Token);
        _connections = new Idle?[o.Connections];
        var visitorCount = (o.Connections + o.ConnectionsPerVisitor - 1) / o.ConnectionsPerVisitor;
        long? rssBefore = null, rssAfter = null;
        double connectRate = 0, held = 0, visitorsSeconds = 0, connectSeconds = 0, barrierSeconds = 0;
        var opened = 0;
        var delivery = Delivery.None;
        try
        {
            using (var setupCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                setupCts.CancelAfter(o.SetupTimeout);
                var ct = setupCts.Token;
                _phase = "visitors";
                var visitorsStart = Stopwatch.GetTimestamp();
                var tokens = new string[visitorCount];
                using (var api = new KefuApi(urls[0], o.ConnectConcurrency))
                {
                    await Parallel.ForAsync(0, visitorCount, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
                    {
                        var (_, token) = await api.CreateVisitorAsync($"idle visitor {i}", null, c);
                        tokens[i] = token;
                    });
                }

                visitorsSeconds = Stopwatch.GetElapsedTime(visitorsStart).TotalSeconds;
                rssBefore = GatewayRss.ReadKb(o, BenchmarkTarget.Kefu);
                _phase = "connect";
                var connectStart = Stopwatch.GetTimestamp();
                var outOfFiles = false;
                await Parallel.ForAsync(0, o.Connections, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
                {
                    if (Volatile.Read(ref outOfFiles))
                    {
                        return;
                    }

                    try
                    {
                        // Connection i goes to gateway i mod G, so one visitor's connections are spread over every
                        // gateway and the delivery sample crosses gateways (cluster fan-out), not only one process.
                        var uri = KefuApi.WebSocketUri(urls[i % urls.Length], tokens[i / o.ConnectionsPerVisitor]);
                        var connection = await ClientConnection.ConnectAsync(uri, invoker, 256, c);
                        _metrics.Opened();
                        _connections[i] = new Idle(this, connection, lifetime.Token);
                        Interlocked.Increment(ref opened);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        _metrics.ConnectFailure(e.Message);
                        if (ClientConnection.IsTooManyOpenFiles(e))
                        {
                            // Alone, stop with the advice to raise the limit. Coordinated (a script waits for this
                            // generator), keep what is open so the run reports the number reached.
                            if (o.ReadyPath is null)
                            {
                                throw new TooManyOpenFilesException(e);
                            }

                            Volatile.Write(ref outOfFiles, true);
                        }
                    }
                });
                if (outOfFiles)
                {
                    opened -= await FreeFilesAsync(32);
                }

                connectSeconds = Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
                connectRate = opened / connectSeconds;
                rssAfter = GatewayRss.ReadKb(o, BenchmarkTarget.Kefu);
            }

            if (o.ReadyPath is { } ready)
            {
                await WriteAtomicallyAsync(ready, JsonSerializer.Serialize(new { opened, requested = o.Connections, connectSeconds = Math.Round(connectSeconds, 2) }, BenchmarkRunner.Json));
            }

            if (o.BarrierPath is { } barrier)
            {
                _phase = "barrier";
                var barrierStart = Stopwatch.GetTimestamp();
                await WaitForFileAsync(barrier, o.SetupTimeout, cancellationToken);
                barrierSeconds = Stopwatch.GetElapsedTime(barrierStart).TotalSeconds;
            }

            _phase = "hold";
            var holdStart = Stopwatch.GetTimestamp();
            using var holdCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            holdCts.CancelAfter(o.Duration);
            await PingLoopAsync(holdCts.Token);
            cancellationToken.ThrowIfCancellationRequested();
            held = Stopwatch.GetElapsedTime(holdStart).TotalSeconds;

            // Let the last pongs arrive.
            await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);

            if (o.DeliverSample > 0)
            {
                _phase = "deliver";
                delivery = await DeliverAsync(visitorCount, cancellationToken);
            }
        }
        catch
        {
            _metrics.Stopping = true;
            await CloseAllAsync(lifetime, progressCts, progress);
            throw;
        }

        _metrics.Stopping = true;
        var stillOpen = _connections.Count(c => c is { IsOpen: true });
        await CloseAllAsync(lifetime, progressCts, progress);

        LatencySummary ping;
        List<long[]> histogram;
        lock (_lock)
        {
            ping = LatencySummary.From(_pingRoundTrip);
            histogram = [.. _pingRoundTrip.RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAddedInThisIterationStep })];
        }

        var result = new IdleResult
        {
            Gateways = [.. urls.Select(u => u.ToString())],
            Requested = o.Connections,
            Opened = opened,
            StillOpen = stillOpen,
            Visitors = visitorCount,
            SourceAddresses = o.SourceAddresses,
            HeldSeconds = Math.Round(held, 1),
            ConnectPerSecond = Math.Round(connectRate, 1),
            VisitorsSeconds = Math.Round(visitorsSeconds, 2),
            ConnectSeconds = Math.Round(connectSeconds, 2),
            BarrierWaitSeconds = Math.Round(barrierSeconds, 2),
            PingsSent = Interlocked.Read(ref _pingsSent),
            PongsReceived = _metrics.Snapshot().Pongs,
            PingRoundTrip = ping,
            PingHistogramUs = histogram,
            DeliverVisitors = delivery.Visitors,
            DeliverSenders = delivery.Senders,
            DeliverAcks = delivery.Acks,
            DeliverExpected = delivery.Expected,
            Delivered = delivery.Delivered,
            Errors = _metrics.ErrorCounts(),
            ErrorSamples = [.. _metrics.ErrorSamples],
            GatewayRssBeforeKb = rssBefore,
            GatewayRssAfterKb = rssAfter,
            GatewayRssPerConnectionKb = GatewayRss.PerConnection(rssBefore, rssAfter, opened),
        };
        if (o.ResultPath is { } resultPath)
        {
            await WriteAtomicallyAsync(resultPath, JsonSerializer.Serialize(result, BenchmarkRunner.Json));
        }

        return result;
    }

    /// <summary>
    /// The delivery check: <see cref="BenchmarkOptions.DeliverSample"/> visitors, spread evenly over this run's
    /// visitors, each send one message (a fresh clientMsgId, no conversationId: it opens the visitor's conversation)
    /// on their first connection that is still open. Expected: the sender gets its <c>ack</c>, and every OTHER
    /// connection of that visitor that opened (on any gateway) gets the <c>message</c> frame with that clientMsgId
    /// (protocol §9.2: the sender's other connections get the message) within <see cref="BenchmarkOptions.Timeout"/>.
    /// A connection closed meanwhile simply never receives it, so it counts as not delivered (and as dropped).
    /// </summary>
    private async Task<Delivery> DeliverAsync(int visitorCount, CancellationToken ct)
    {
        var o = options;
        var sample = Math.Min(o.DeliverSample, visitorCount);
        var acks = new List<Task>();
        var deliveries = new List<Task>();
        var sends = new List<(Idle Sender, string ClientMsgId)>();
        for (var k = 0; k < sample; k++)
        {
            var visitor = (int)((long)k * visitorCount / sample);
            var members = Enumerable.Range(visitor * o.ConnectionsPerVisitor, o.ConnectionsPerVisitor)
                .Where(i => i < _connections.Length && _connections[i] is not null)
                .Select(i => _connections[i]!)
                .ToList();
            if (members.Count == 0)
            {
                continue;
            }

            var clientMsgId = $"deliver-{_runTag}-{visitor}";
            var sender = members.FirstOrDefault(m => m.IsOpen);
            foreach (var m in members.Where(m => !ReferenceEquals(m, sender)).Take(members.Count - 1))
            {
                deliveries.Add(m.Expect(clientMsgId, "message"));
            }

            if (sender is not null)
            {
                acks.Add(sender.Expect(clientMsgId, "ack"));
                sends.Add((sender, clientMsgId));
            }
        }

        await Parallel.ForEachAsync(sends, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (s, _) =>
            await s.Sender.SendAsync(s.ClientMsgId, ClientConnection.MakeText(Stopwatch.GetTimestamp(), o.MessageBytes, s.ClientMsgId)));
        await Task.WhenAny(Task.WhenAll(acks.Concat(deliveries)), Task.Delay(o.Timeout, ct));
        var delivered = deliveries.Count(t => t.IsCompletedSuccessfully);
        if (delivered < deliveries.Count)
        {
            _metrics.Timeout($"{deliveries.Count - delivered} of {deliveries.Count} sample deliveries not received within {o.Timeout.TotalSeconds}s");
        }

        return new Delivery(sample, sends.Count, acks.Count(t => t.IsCompletedSuccessfully), deliveries.Count, delivered);
    }

    private readonly record struct Delivery(int Visitors, int Senders, int Acks, int Expected, int Delivered)
    {
        public static readonly Delivery None = new(0, 0, 0, 0, 0);
    }

    /// <summary>
    /// Out of files: closes the last <paramref name="count"/> connections, which then count as never opened, so the
    /// ready and result files can still be written (each needs a file descriptor).
    /// </summary>
    private async Task<int> FreeFilesAsync(int count)
    {
        var freed = 0;
        for (var i = _connections.Length - 1; i >= 0 && freed < count; i--)
        {
            if (_connections[i] is { } c)
            {
                _connections[i] = null;
                c.Forget();
                await c.DisposeAsync();
                freed++;
            }
        }

        _metrics.OtherError($"too many open files: stopped connecting; closed {freed} connections again to keep files for the results");
        return freed;
    }

    /// <summary>Write then rename, so a script polling for the file never reads half of it.</summary>
    private static async Task WriteAtomicallyAsync(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        await File.WriteAllTextAsync(temporary, text, CancellationToken.None);
        File.Move(temporary, full, overwrite: true);
    }

    private static async Task WaitForFileAsync(string path, TimeSpan limit, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (!File.Exists(path))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"the barrier {path} did not appear within {limit.TotalSeconds}s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
    }

    private async Task CloseAllAsync(CancellationTokenSource lifetime, CancellationTokenSource progressCts, Task progress)
    {
        _phase = "close";
        var all = _connections.Where(c => c is not null).Select(c => c!).ToList();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 256 };
        await Parallel.ForEachAsync(all, parallel, async (c, _) => await c.CloseAsync());
        await Task.WhenAny(Task.WhenAll(all.Select(c => c.ReceiveLoop)), Task.Delay(TimeSpan.FromSeconds(10)));
        await lifetime.CancelAsync();
        await Parallel.ForEachAsync(all, parallel, async (c, _) => await c.DisposeAsync());
        await progressCts.CancelAsync();
        await progress;
    }

    private async Task PingLoopAsync(CancellationToken ct)
    {
        var open = _connections.Where(c => c is not null).Select(c => c!).ToArray();
        if (open.Length == 0 || options.PingSample == 0)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                // Held long enough.
            }

            return;
        }

        using var timer = new PeriodicTimer(options.PingInterval);
        var next = 0;
        try
        {
            do
            {
                for (var k = 0; k < Math.Min(options.PingSample, open.Length) && !ct.IsCancellationRequested; k++)
                {
                    await open[next++ % open.Length].PingAsync();
                }
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException)
        {
            // Held long enough.
        }
    }

    private async Task ProgressAsync(CancellationToken ct)
    {
        if (!options.Progress)
        {
            return;
        }

        var start = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                options.ProgressWriter.WriteLine(
                    $"[idle {Stopwatch.GetElapsedTime(start).TotalSeconds,5:F0}s {_phase,-8}] open={_metrics.OpenConnections}/{options.Connections} pings={Interlocked.Read(ref _pingsSent)} pongs={_metrics.Snapshot().Pongs} errors={_metrics.Errors}");
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }

    private sealed class Idle
    {
        private readonly IdleRun _run;
        private readonly ClientConnection _connection;
        private readonly Task _receiveLoop;
        private long _pingSentAt;
        private volatile bool _closed;
        private volatile Expectation? _expectation;

        public Idle(IdleRun run, ClientConnection connection, CancellationToken lifetime)
        {
            _run = run;
            _connection = connection;
            _receiveLoop = ReceiveAsync(lifetime);
        }

        private volatile bool _forgotten;

        public bool IsOpen => !_closed && _connection.State == System.Net.WebSockets.WebSocketState.Open;

        /// <summary>Closed on purpose by the run: its end is not counted as a disconnect.</summary>
        public void Forget() => _forgotten = true;

        private async Task ReceiveAsync(CancellationToken lifetime)
        {
            await Task.Yield();
            var reason = await _connection.ReceiveLoopAsync(OnFrame, lifetime);
            _closed = true;
            _run._metrics.Closed();
            if (!lifetime.IsCancellationRequested && !_forgotten)
            {
                _run._metrics.Disconnect(reason);
            }
        }

        private void OnFrame(IncomingFrame frame)
        {
            if (frame.Type == "pong")
            {
                _run._metrics.Pong();
                var sentAt = Interlocked.Exchange(ref _pingSentAt, 0);
                if (sentAt != 0)
                {
                    var micros = Math.Clamp((long)Stopwatch.GetElapsedTime(sentAt).TotalMicroseconds, 1, 600_000_000);
                    lock (_run._lock)
                    {
                        _run._pingRoundTrip.RecordValue(micros);
                    }
                }
            }
            else if (frame.Type == "error")
            {
                _run._metrics.ErrorFrame($"{frame.Code} {frame.Message}");
            }

            if (_expectation is { } e && frame.Type == e.FrameType && frame.ClientMsgId == e.ClientMsgId)
            {
                e.Received.TrySetResult();
            }
        }

        /// <summary>Completes when this connection receives a frame of that type carrying that clientMsgId.</summary>
        public Task Expect(string clientMsgId, string frameType)
        {
            var expectation = new Expectation(clientMsgId, frameType, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            _expectation = expectation;
            return expectation.Received.Task;
        }

        /// <summary>The sample's one message; a failed send leaves its ack and deliveries missing.</summary>
        public async Task SendAsync(string clientMsgId, string text)
        {
            try
            {
                await _connection.SendSendAsync(clientMsgId, null, text, CancellationToken.None);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
            {
                _run._metrics.OtherError("sample send failed: " + e.Message);
            }
        }

        /// <summary>One ping; not cancellable, so a ping counted as sent was sent.</summary>
        public async Task PingAsync()
        {
            if (!IsOpen)
            {
                return;
            }

            Interlocked.Exchange(ref _pingSentAt, Stopwatch.GetTimestamp());
            try
            {
                await _connection.SendPingAsync(CancellationToken.None);
                Interlocked.Increment(ref _run._pingsSent);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
            {
                _run._metrics.OtherError("ping failed: " + e.Message);
            }
        }

        public Task ReceiveLoop => _receiveLoop;

        private sealed record Expectation(string ClientMsgId, string FrameType, TaskCompletionSource Received);

        public Task CloseAsync() => _connection.CloseAsync();

        public async ValueTask DisposeAsync()
        {
            await _connection.DisposeAsync();
            await _receiveLoop;
        }
    }
}
