using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using HdrHistogram;

namespace Kefu.Benchmarks;

/// <summary>
/// Inbound business events (<c>--mode inbound</c>): <c>--senders</c> concurrent senders each post
/// <c>POST /api/v1/webhook</c> with a fresh event id, the next as soon as the previous is answered (closed loop). Counts
/// 202 answers — each one a durable deduplication record plus an inbound.received event — per second in the measurement
/// window, with the request latency. With <c>--contacts K</c> every event names one of K contacts by external id (found
/// or created, with its current conversation); without, the event addresses nothing. <c>--duplicates P</c> re-posts a
/// percentage of ids already accepted (answered from the record: counted apart as replays).
/// </summary>
internal sealed class InboundRun(BenchmarkOptions options, Uri[] urls)
{
    private readonly LongHistogram _latency = new(600_000_000, 3);
    private readonly Lock _lock = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _errorSamples = [];
    private long _accepted, _replayed, _errors, _sent, _sequence;
    private volatile bool _measuring;

    public async Task<InboundResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = options;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = o.Senders, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { Timeout = o.Timeout };
        string token;
        using (var api = new KefuApi(urls[0], 4))
        {
            token = await api.LoginAsync("admin", o.AdminPassword ?? throw new ArgumentException("--admin-password is needed."), cancellationToken);
        }

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var padding = new string('x', Math.Max(0, o.MessageBytes - 24));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var senders = Enumerable.Range(0, o.Senders).Select(i => SendLoopAsync(http, urls[i % urls.Length], i, padding, stop.Token)).ToArray();
        using var progressCts = new CancellationTokenSource();
        var progress = ProgressAsync(progressCts.Token);

        await Task.Delay(o.Warmup, cancellationToken);
        long acceptedBefore, replayedBefore, errorsBefore;
        lock (_lock)
        {
            _latency.Reset();
            _measuring = true;
            (acceptedBefore, replayedBefore, errorsBefore) = (Interlocked.Read(ref _accepted), Interlocked.Read(ref _replayed), Interlocked.Read(ref _errors));
        }

        var start = Stopwatch.GetTimestamp();
        await Task.Delay(o.Duration, cancellationToken);
        long accepted, replayed, errors;
        lock (_lock)
        {
            _measuring = false;
            (accepted, replayed, errors) = (Interlocked.Read(ref _accepted) - acceptedBefore, Interlocked.Read(ref _replayed) - replayedBefore,
                Interlocked.Read(ref _errors) - errorsBefore);
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(senders);
        await progressCts.CancelAsync();
        await progress;

        LatencySummary latency;
        lock (_lock)
        {
            latency = LatencySummary.From(_latency);
        }

        return new InboundResult
        {
            Gateways = [.. urls.Select(u => u.ToString())],
            Senders = o.Senders,
            Contacts = o.Contacts,
            DuplicatePercent = o.Duplicates,
            BodyBytes = o.MessageBytes,
            MeasuredSeconds = Math.Round(seconds, 2),
            Sent = Interlocked.Read(ref _sent),
            Accepted = accepted,
            Replayed = replayed,
            AcceptedPerSecond = Math.Round(accepted / seconds, 1),
            Latency = latency,
            Errors = errors,
            ErrorSamples = [.. _errorSamples],
        };
    }

    private async Task SendLoopAsync(HttpClient http, Uri baseUri, int sender, string padding, CancellationToken cancellationToken)
    {
        var endpoint = new Uri(baseUri, "/api/v1/webhook");
        var random = new Random(sender);
        var accepted = new List<string>();
        while (!cancellationToken.IsCancellationRequested)
        {
            var duplicate = options.Duplicates > 0 && accepted.Count > 0 && random.Next(100) < options.Duplicates;
            var id = duplicate ? accepted[random.Next(accepted.Count)] : $"bench-{_run}-{sender}-{Interlocked.Increment(ref _sequence)}";
            var contact = options.Contacts > 0
                ? $",\"contact\":{{\"externalId\":\"bench-{_run}-c{(uint)id.GetHashCode(StringComparison.Ordinal) % (uint)options.Contacts}\"}}"
                : string.Empty;
            var body = $"{{\"id\":\"{id}\",\"type\":\"bench\"{contact},\"data\":{{\"p\":\"{padding}\"}}}}";
            var started = Stopwatch.GetTimestamp();
            try
            {
                Interlocked.Increment(ref _sent);
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(endpoint, content, cancellationToken);
                var elapsedUs = (long)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var replay = response.Headers.Contains("Idempotent-Replayed");
                    lock (_lock)
                    {
                        if (_measuring)
                        {
                            _latency.RecordValue(Math.Max(1, elapsedUs));
                        }
                    }

                    Interlocked.Increment(ref replay ? ref _replayed : ref _accepted);
                    if (!replay && accepted.Count < 1000)
                    {
                        accepted.Add(id);
                    }
                }
                else
                {
                    Error($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Error(e.Message);
            }
        }
    }

    private void Error(string description)
    {
        Interlocked.Increment(ref _errors);
        lock (_lock)
        {
            if (_errorSamples.Count < 10)
            {
                _errorSamples.Add(description.Length > 300 ? description[..300] : description);
            }
        }
    }

    private async Task ProgressAsync(CancellationToken cancellationToken)
    {
        if (!options.Progress)
        {
            return;
        }

        long last = 0;
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                var now = Interlocked.Read(ref _accepted) + Interlocked.Read(ref _replayed);
                await options.ProgressWriter.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                    $"\r{(_measuring ? "measure" : "warmup")}: {now - last} accepted/s, {Interlocked.Read(ref _errors)} errors   "));
                last = now;
            }
        }
        catch (OperationCanceledException)
        {
            await options.ProgressWriter.WriteLineAsync();
        }
    }

    public static void Markdown(StringBuilder sb, InboundResult r)
    {
        sb.Append(CultureInfo.InvariantCulture, $"Inbound events: {r.Senders} concurrent senders (closed loop), {r.BodyBytes}-byte data, ")
            .Append(r.Contacts > 0 ? $"each naming one of {r.Contacts} contacts by externalId" : "no contact")
            .Append(r.DuplicatePercent > 0 ? $", {r.DuplicatePercent}% duplicates" : string.Empty)
            .Append(CultureInfo.InvariantCulture, $", measured {r.MeasuredSeconds}s against {string.Join(", ", r.Gateways)}.\n\n");
        sb.Append("| accepted/s | accepted | replayed | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |\n");
        sb.Append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"| {r.AcceptedPerSecond:F0} | {r.Accepted} | {r.Replayed} | {Ms(r.Latency.P50Us)} | {Ms(r.Latency.P90Us)} | {Ms(r.Latency.P99Us)} | {Ms(r.Latency.P999Us)} | {Ms(r.Latency.MaxUs)} | {r.Errors} |\n");
        foreach (var sample in r.ErrorSamples)
        {
            sb.Append("- ").Append(sample).Append('\n');
        }
    }

    private static string Ms(long micros) => (micros / 1000.0).ToString("F2", CultureInfo.InvariantCulture);
}

public sealed class InboundResult
{
    public List<string> Gateways { get; init; } = [];

    public int Senders { get; init; }

    public int Contacts { get; init; }

    public int DuplicatePercent { get; init; }

    public int BodyBytes { get; init; }

    public double MeasuredSeconds { get; init; }

    public long Sent { get; init; }

    /// <summary>202 answers for new ids inside the measurement window.</summary>
    public long Accepted { get; init; }

    /// <summary>202 answers replayed for ids seen before (<c>Idempotent-Replayed</c>), inside the window.</summary>
    public long Replayed { get; init; }

    public double AcceptedPerSecond { get; init; }

    public required LatencySummary Latency { get; init; }

    public long Errors { get; init; }

    public List<string> ErrorSamples { get; init; } = [];
}
