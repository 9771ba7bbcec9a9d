using System.Diagnostics;
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

    public async Task<IdleResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = options;
        using var invoker = ClientConnection.CreateInvoker(o.SourceAddresses);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var progressCts = new CancellationTokenSource();
        var progress = ProgressAsync(progressCts.Token);
        _connections = new Idle?[o.Connections];
        var visitorCount = (o.Connections + o.ConnectionsPerVisitor - 1) / o.ConnectionsPerVisitor;
        long? rssBefore = null, rssAfter = null;
        double connectRate = 0, held = 0;
        var opened = 0;
        try
        {
            using (var setupCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                setupCts.CancelAfter(o.SetupTimeout);
                var ct = setupCts.Token;
                _phase = "visitors";
                var tokens = new Uri[visitorCount];
                using (var api = new KefuApi(urls[0], o.ConnectConcurrency))
                {
                    await Parallel.ForAsync(0, visitorCount, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
                    {
                        var (_, token) = await api.CreateVisitorAsync($"idle visitor {i}", null, c);
                        tokens[i] = KefuApi.WebSocketUri(urls[i % urls.Length], token);
                    });
                }

                rssBefore = GatewayRss.ReadKb(o, BenchmarkTarget.Kefu);
                _phase = "connect";
                var connectStart = Stopwatch.GetTimestamp();
                await Parallel.ForAsync(0, o.Connections, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
                {
                    try
                    {
                        var connection = await ClientConnection.ConnectAsync(tokens[i / o.ConnectionsPerVisitor], invoker, 256, c);
                        _metrics.Opened();
                        _connections[i] = new Idle(this, connection, lifetime.Token);
                        Interlocked.Increment(ref opened);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        _metrics.ConnectFailure(e.Message);
                        if (ClientConnection.IsTooManyOpenFiles(e))
                        {
                            throw new TooManyOpenFilesException(e);
                        }
                    }
                });
                connectRate = opened / Stopwatch.GetElapsedTime(connectStart).TotalSeconds;
                rssAfter = GatewayRss.ReadKb(o, BenchmarkTarget.Kefu);
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
        lock (_lock)
        {
            ping = LatencySummary.From(_pingRoundTrip);
        }

        return new IdleResult
        {
            Gateways = [.. urls.Select(u => u.ToString())],
            Requested = o.Connections,
            Opened = opened,
            StillOpen = stillOpen,
            Visitors = visitorCount,
            SourceAddresses = o.SourceAddresses,
            HeldSeconds = Math.Round(held, 1),
            ConnectPerSecond = Math.Round(connectRate, 1),
            PingsSent = Interlocked.Read(ref _pingsSent),
            PongsReceived = _metrics.Snapshot().Pongs,
            PingRoundTrip = ping,
            Errors = _metrics.ErrorCounts(),
            ErrorSamples = [.. _metrics.ErrorSamples],
            GatewayRssBeforeKb = rssBefore,
            GatewayRssAfterKb = rssAfter,
            GatewayRssPerConnectionKb = GatewayRss.PerConnection(rssBefore, rssAfter, opened),
        };
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

        public Idle(IdleRun run, ClientConnection connection, CancellationToken lifetime)
        {
            _run = run;
            _connection = connection;
            _receiveLoop = ReceiveAsync(lifetime);
        }

        public bool IsOpen => !_closed && _connection.State == System.Net.WebSockets.WebSocketState.Open;

        private async Task ReceiveAsync(CancellationToken lifetime)
        {
            await Task.Yield();
            var reason = await _connection.ReceiveLoopAsync(OnFrame, lifetime);
            _closed = true;
            _run._metrics.Closed();
            if (!lifetime.IsCancellationRequested)
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

        public Task CloseAsync() => _connection.CloseAsync();

        public async ValueTask DisposeAsync()
        {
            await _connection.DisposeAsync();
            await _receiveLoop;
        }
    }
}
