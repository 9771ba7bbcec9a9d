using System.Collections.Concurrent;
using System.Diagnostics;

namespace Kefu.Benchmarks;

/// <summary>
/// One load run (closed loop or fixed rate) against Kefu or the relay: set up visitors and agents, drive traffic
/// for warmup + duration, then stop by itself.
/// </summary>
internal sealed class LoadRun
{
    private readonly BenchmarkOptions _options;
    private readonly BenchmarkTarget _target;
    private readonly Uri[] _urls;
    private readonly Metrics _metrics = new();
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];
    private Participant[] _visitors = [];
    private Participant[] _agents = [];
    private string _phase = "setup";

    public LoadRun(BenchmarkOptions options, BenchmarkTarget target, Uri[] urls)
    {
        _options = options;
        _target = target;
        _urls = urls;
    }

    public async Task<RunResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = _options;
        using var invoker = ClientConnection.CreateInvoker(o.SourceAddresses);
        using var runCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var progressCts = new CancellationTokenSource();
        var progress = ProgressAsync(progressCts.Token);
        long? rssBefore = null, rssAfter = null;
        double connectRate;
        try
        {
            using (var setupCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                setupCts.CancelAfter(o.SetupTimeout);
                var ct = setupCts.Token;
                var (visitorUris, agentUris) = await CreateAccountsAsync(ct);
                rssBefore = GatewayRss.ReadKb(o, _target);

                _phase = "connect";
                var connectStart = Stopwatch.GetTimestamp();
                _agents = new Participant[agentUris.Count];
                _visitors = new Participant[visitorUris.Count];
                await ConnectAllAsync(agentUris, _agents, isAgent: true, invoker, runCts.Token, ct);
                await ConnectAllAsync(visitorUris, _visitors, isAgent: false, invoker, runCts.Token, ct);
                connectRate = (agentUris.Count + visitorUris.Count) / Stopwatch.GetElapsedTime(connectStart).TotalSeconds;

                _phase = "join";
                await AssignAsync(ct);
                rssAfter = GatewayRss.ReadKb(o, _target);
            }

            // Traffic: warmup, then the measurement window, then stop.
            var start = Stopwatch.GetTimestamp();
            var windowStart = start + (long)(o.Warmup.TotalSeconds * Stopwatch.Frequency);
            var windowEnd = windowStart + (long)(o.Duration.TotalSeconds * Stopwatch.Frequency);
            _metrics.StartWindow(windowStart);
            _metrics.EndWindow(windowEnd);
            _phase = o.Warmup > TimeSpan.Zero ? "warmup" : "measure";
            using var trafficCts = CancellationTokenSource.CreateLinkedTokenSource(runCts.Token);
            trafficCts.CancelAfter(o.Warmup + o.Duration);
            var sweeper = SweepAsync(trafficCts.Token);
            var loops = _visitors.Select((v, i) => o.Mode == BenchmarkMode.Rate
                ? RateLoopAsync(v, i, trafficCts.Token)
                : ClosedLoopAsync(v, trafficCts.Token)).ToList();
            if (o.Warmup > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(o.Warmup, trafficCts.Token);
                }
                catch (OperationCanceledException)
                {
                    // Cancelled from outside; the loops stop too.
                }

                _phase = "measure";
            }

            await Task.WhenAll(loops);
            await sweeper;
            cancellationToken.ThrowIfCancellationRequested();

            // Let in-flight replies arrive (they are not counted any more), then close.
            _phase = "drain";
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, o.Timeout.TotalMilliseconds)), CancellationToken.None);
        }
        finally
        {
            _metrics.Stopping = true;
            _phase = "close";
            var all = _visitors.Concat(_agents).Where(p => p is not null).ToList();
            await Task.WhenAll(all.Select(p => p.CloseAsync()));
            await runCts.CancelAsync();
            await Task.WhenAll(all.Select(p => p.DisposeAsync().AsTask()));
            await progressCts.CancelAsync();
            await progress;
        }

        var snapshot = _metrics.Snapshot();
        var seconds = o.Duration.TotalSeconds;
        var connections = _visitors.Length + _agents.Length;
        return new RunResult
        {
            Target = _target.ToString().ToLowerInvariant(),
            Mode = o.Mode.ToString().ToLowerInvariant(),
            Gateways = [.. _urls.Select(u => u.ToString())],
            Visitors = _visitors.Length,
            Agents = _agents.Length,
            Connections = connections,
            MessageBytes = o.MessageBytes,
            TargetRate = o.Mode == BenchmarkMode.Rate ? o.Rate : null,
            MeasuredSeconds = seconds,
            Sent = snapshot.Sent,
            Acked = snapshot.Acked,
            Delivered = snapshot.Delivered,
            DeliveredToAgents = snapshot.ToAgents,
            DeliveredToVisitors = snapshot.ToVisitors,
            DeliveredPerSecond = Math.Round(snapshot.Delivered / seconds, 1),
            ConnectPerSecond = Math.Round(connectRate, 1),
            EndToEnd = snapshot.EndToEnd,
            Ack = snapshot.Ack,
            Errors = _metrics.ErrorCounts(),
            ErrorSamples = [.. _metrics.ErrorSamples],
            GatewayRssBeforeKb = rssBefore,
            GatewayRssAfterKb = rssAfter,
            GatewayRssPerConnectionKb = GatewayRss.PerConnection(rssBefore, rssAfter, connections),
        };
    }

    /// <summary>Kefu: visitors and agents through the HTTP API. Relay: names only.</summary>
    private async Task<(List<Uri> Visitors, List<Uri> Agents)> CreateAccountsAsync(CancellationToken ct)
    {
        var o = _options;
        var visitors = new Uri[o.Visitors];
        var agents = new Uri[o.Agents];
        if (_target == BenchmarkTarget.Relay)
        {
            var relay = _urls[0];
            for (var j = 0; j < o.Agents; j++)
            {
                agents[j] = RelayUri(relay, $"role=agent&id=a{j}");
            }

            for (var i = 0; i < o.Visitors; i++)
            {
                visitors[i] = RelayUri(relay, $"role=visitor&id=v{i}&peer=a{i % o.Agents}");
            }

            return ([.. visitors], [.. agents]);
        }

        if (string.IsNullOrEmpty(o.AdminPassword))
        {
            throw new ArgumentException("--admin-password is needed to create the agents.");
        }

        using var api = new KefuApi(_urls[0], o.ConnectConcurrency);
        var adminToken = await api.LoginAsync("admin", o.AdminPassword, ct);
        var inbox = $"bench-{_runId}";
        await api.CreateManualInboxAsync(adminToken, inbox, ct);

        // Agent j joins visitors j, j + M, j + 2M, …: that many open conversations at once.
        var capacity = (o.Visitors + o.Agents - 1) / o.Agents;
        await Parallel.ForAsync(0, o.Agents, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (j, c) =>
        {
            var username = $"bench-{_runId}-{j}";
            await api.CreateAgentAsync(adminToken, username, capacity, c);
            agents[j] = KefuApi.WebSocketUri(_urls[j % _urls.Length], await api.LoginAsync(username, KefuApi.AgentPassword, c));
        });
        await Parallel.ForAsync(0, o.Visitors, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
        {
            var (_, token) = await api.CreateVisitorAsync($"bench visitor {i}", inbox, c);
            visitors[i] = KefuApi.WebSocketUri(_urls[i % _urls.Length], token);
        });
        return ([.. visitors], [.. agents]);
    }

    private static Uri RelayUri(Uri relay, string query) => new UriBuilder(relay) { Scheme = "ws", Path = "/ws", Query = query }.Uri;

    private async Task ConnectAllAsync(List<Uri> uris, Participant[] result, bool isAgent, HttpMessageInvoker invoker, CancellationToken lifetime, CancellationToken ct)
    {
        await Parallel.ForAsync(0, uris.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
        {
            ClientConnection connection;
            try
            {
                connection = await ClientConnection.ConnectAsync(uris[i], invoker, 4096, c);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _metrics.ConnectFailure(e.Message);
                throw ClientConnection.IsTooManyOpenFiles(e) ? new TooManyOpenFilesException(e) : new InvalidOperationException($"Connecting {(isAgent ? "agent" : "visitor")} {i} failed: {e.Message}", e);
            }

            _metrics.Opened();
            result[i] = new Participant(this, connection, isAgent, isAgent ? $"a{i}" : $"v{i}", lifetime);
        });
    }

    /// <summary>
    /// Kefu: each visitor sends a first message (which creates its conversation), then agent i % M joins it.
    /// Relay: the pairing is in the URLs; the conversation id is the visitor's name.
    /// </summary>
    private async Task AssignAsync(CancellationToken ct)
    {
        var o = _options;
        if (_target == BenchmarkTarget.Relay)
        {
            foreach (var v in _visitors)
            {
                v.ConversationId = v.Name;
            }

            return;
        }

        await Parallel.ForAsync(0, _visitors.Length, new ParallelOptions { MaxDegreeOfParallelism = o.ConnectConcurrency, CancellationToken = ct }, async (i, c) =>
        {
            var v = _visitors[i];
            v.ConversationId = await v.SendSetupAsync(o.Timeout, c);
            await _agents[i % _agents.Length].JoinAsync(v.ConversationId, o.Timeout, c);
        });
    }

    private async Task ClosedLoopAsync(Participant visitor, CancellationToken ct)
    {
        var o = _options;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var id = visitor.NextId();
                var reply = visitor.ExpectReply(id);
                var ack = await visitor.SendMessageAsync(Stopwatch.GetTimestamp(), ct, id);
                if (!await ack.WaitAsync(o.Timeout, ct).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default))
                {
                    ct.ThrowIfCancellationRequested();
                    continue;
                }

                if (!await reply.WaitAsync(o.Timeout, ct).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default))
                {
                    ct.ThrowIfCancellationRequested();
                    _metrics.Timeout($"no reply within {o.Timeout.TotalSeconds}s ({visitor.Name})");
                    continue;
                }

                if (o.ThinkTime > TimeSpan.Zero)
                {
                    await Task.Delay(o.ThinkTime, ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            _metrics.OtherError($"send failed ({visitor.Name}): {e.Message}");
        }
    }

    /// <summary>Sends at fixed intervals (rate / visitors each), staggered; latency counts from the intended send time.</summary>
    private async Task RateLoopAsync(Participant visitor, int index, CancellationToken ct)
    {
        var o = _options;
        var interval = (long)(Stopwatch.Frequency * o.Visitors / o.Rate);
        var next = Stopwatch.GetTimestamp() + interval * index / o.Visitors;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, ct);
                }

                await visitor.SendMessageAsync(next, ct, visitor.NextId());
                next += interval;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            _metrics.OtherError($"send failed ({visitor.Name}): {e.Message}");
        }
    }

    /// <summary>Counts sends that got no ack within the timeout.</summary>
    private async Task SweepAsync(CancellationToken ct)
    {
        var limit = (long)(_options.Timeout.TotalSeconds * Stopwatch.Frequency);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var now = Stopwatch.GetTimestamp();
            foreach (var p in _visitors.Concat(_agents))
            {
                p.SweepPending(now - limit);
            }
        }
    }

    private async Task ProgressAsync(CancellationToken ct)
    {
        if (!_options.Progress)
        {
            return;
        }

        var start = Stopwatch.GetTimestamp();
        long lastDelivered = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var delivered = _metrics.DeliveredTotal;
                _options.ProgressWriter.WriteLine(
                    $"[{_target.ToString().ToLowerInvariant()} {Stopwatch.GetElapsedTime(start).TotalSeconds,5:F0}s {_phase,-7}] open={_metrics.OpenConnections} sent={_metrics.Sent} delivered={delivered} ({delivered - lastDelivered}/s) errors={_metrics.Errors}");
                lastDelivered = delivered;
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }

    /// <summary>A visitor or an agent with its connection and its sends waiting for an ack.</summary>
    private sealed class Participant
    {
        private readonly LoadRun _run;
        private readonly ClientConnection _connection;
        private readonly bool _isAgent;
        private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);
        private readonly Task<string> _receiveLoop;
        private readonly Lock _joinLock = new();
        private readonly Dictionary<string, TaskCompletionSource> _joins = new(StringComparer.Ordinal);
        private (string Id, TaskCompletionSource Waiter)? _reply;
        private readonly Lock _replyLock = new();
        private long _counter;

        public Participant(LoadRun run, ClientConnection connection, bool isAgent, string name, CancellationToken lifetime)
        {
            _run = run;
            _connection = connection;
            _isAgent = isAgent;
            Name = name;
            _receiveLoop = Task.Run(() => ReceiveAsync(lifetime), CancellationToken.None);
        }

        public string Name { get; }

        public string? ConversationId { get; set; }

        private Metrics Metrics => _run._metrics;

        private async Task<string> ReceiveAsync(CancellationToken lifetime)
        {
            var reason = await _connection.ReceiveLoopAsync(OnFrame, lifetime);
            Metrics.Closed();
            if (!lifetime.IsCancellationRequested)
            {
                Metrics.Disconnect($"{Name}: {reason}");
            }

            return reason;
        }

        private void OnFrame(IncomingFrame frame)
        {
            switch (frame.Type)
            {
                case "ack":
                    if (frame.ClientMsgId is not null && _pending.TryRemove(frame.ClientMsgId, out var pending))
                    {
                        if (pending.Counted)
                        {
                            Metrics.Ack(pending.SentAt);
                        }

                        pending.Waiter?.TrySetResult(frame.ConversationId);
                    }

                    break;
                case "message" or "send":
                    if (ClientConnection.TryReadTimestamp(frame.Text, out var sentAt))
                    {
                        Metrics.Delivered(sentAt, _isAgent);
                        if (_isAgent)
                        {
                            _ = ReplyAsync(frame.ConversationId, frame.ClientMsgId);
                        }
                        else
                        {
                            CompleteReply(ClientConnection.ReadTag(frame.Text!));
                        }
                    }

                    break;
                case "joined":
                    lock (_joinLock)
                    {
                        if (frame.ConversationId is not null && _joins.Remove(frame.ConversationId, out var join))
                        {
                            join.TrySetResult();
                        }
                    }

                    break;
                case "error":
                    Metrics.ErrorFrame($"{Name}: {frame.Code} {frame.Message}");
                    break;
                default:
                    break; // conversation, synced, pong, typing, read: not measured.
            }
        }

        private void CompleteReply(ReadOnlySpan<char> inReplyTo)
        {
            lock (_replyLock)
            {
                // A late reply to an earlier (timed out) message must not count as the reply to the current one.
                if (_reply is { } reply && inReplyTo.SequenceEqual(reply.Id))
                {
                    reply.Waiter.TrySetResult();
                    _reply = null;
                }
            }
        }

        private async Task ReplyAsync(string? conversationId, string? inReplyTo)
        {
            if (conversationId is null || Metrics.Stopping)
            {
                return;
            }

            try
            {
                await SendMessageAsync(Stopwatch.GetTimestamp(), CancellationToken.None, NextId(), conversationId, inReplyTo);
            }
            catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
            {
                if (!Metrics.Stopping)
                {
                    Metrics.OtherError($"reply failed ({Name}): {e.Message}");
                }
            }
        }

        public string NextId() => $"{Name}-{Interlocked.Increment(ref _counter)}";

        public Task ExpectReply(string id)
        {
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_replyLock)
            {
                _reply = (id, tcs);
            }

            return tcs.Task;
        }

        /// <summary>Sends a timed message; returns a task completed by its ack.</summary>
        public async Task<Task<string?>> SendMessageAsync(long sentAt, CancellationToken ct, string id, string? conversationId = null, string? inReplyTo = null)
        {
            var waiter = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = new Pending(sentAt, waiter, Counted: true);
            Metrics.Sent1();
            await _connection.SendSendAsync(id, conversationId ?? ConversationId, ClientConnection.MakeText(sentAt, _run._options.MessageBytes, inReplyTo), ct);
            return waiter.Task;
        }

        /// <summary>Kefu: the first message, which creates the visitor's conversation; returns its id.</summary>
        public async Task<string> SendSetupAsync(TimeSpan timeout, CancellationToken ct)
        {
            var id = $"{Name}-setup";
            var waiter = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = new Pending(Stopwatch.GetTimestamp(), waiter, Counted: false);
            await _connection.SendSendAsync(id, null, "hello (benchmark setup)", ct);
            return await waiter.Task.WaitAsync(timeout, ct) ?? throw new InvalidOperationException($"{Name}: the setup ack has no conversationId.");
        }

        public async Task JoinAsync(string conversationId, TimeSpan timeout, CancellationToken ct)
        {
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_joinLock)
            {
                _joins[conversationId] = tcs;
            }

            await _connection.SendJoinAsync(conversationId, ct);
            await tcs.Task.WaitAsync(timeout, ct);
        }

        public void SweepPending(long olderThan)
        {
            foreach (var (id, pending) in _pending)
            {
                if (pending.SentAt < olderThan && _pending.TryRemove(id, out _))
                {
                    Metrics.Timeout($"no ack for {id}");
                    pending.Waiter?.TrySetCanceled();
                }
            }
        }

        /// <summary>Closes gracefully and waits (up to 2 s) for the server's close.</summary>
        public async Task CloseAsync()
        {
            await _connection.CloseAsync();
            await Task.WhenAny(_receiveLoop, Task.Delay(TimeSpan.FromSeconds(2)));
        }

        public async ValueTask DisposeAsync()
        {
            await _connection.DisposeAsync();
            await _receiveLoop;
        }

        private sealed record Pending(long SentAt, TaskCompletionSource<string?>? Waiter, bool Counted);
    }
}

/// <summary>Sockets failed with EMFILE: the process's file-descriptor limit is too low.</summary>
public sealed class TooManyOpenFilesException(Exception inner)
    : Exception("Too many open files (EMFILE): raise the file-descriptor limit first, e.g. `ulimit -n 1048576` in the shell that runs the benchmark (and the gateway).", inner);
