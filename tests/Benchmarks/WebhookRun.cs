using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>webhooks</c>: outbound webhook deliveries per second to a local receiver, with enqueue→delivery latency
/// (docs/performance.md). A receiver inside the tool (Kestrel on loopback) answers 200 and checks every signature;
/// one endpoint on the gateway sends it every <c>message.created</c>; visitors send messages at a fixed total rate.
/// Latency is measured twice: from the event's commit (its envelope <c>time</c>: the moment it entered the outbox) and
/// from the visitor's send (the Stopwatch timestamp in the message text, so it includes the commit).
/// The gateway must allow loopback targets (<c>Kefu__Webhooks__AllowPrivateTargets=true</c>, as in Development).
/// </summary>
public static class WebhookRun
{
    public const string Usage = """
        webhooks mode: dotnet run -c Release --project tests/Benchmarks -- webhooks [options]
          --url URL              gateway (loopback only; default http://127.0.0.1:5080)
          --admin-password PW    password of the admin agent (required)
          --visitors N           visitors sending (default 100; each under the per-connection frame limit)
          --rate R               messages/s in total (default 2000)
          --warmup S / --duration S   seconds (default 5 / 20)
          --result FILE.json     write the headline figures as JSON (deliveries/s, commit→delivery p50/p99)
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var url = new Uri(BenchHost.Arg(args, "--url") ?? "http://127.0.0.1:5080");
        var password = BenchHost.Arg(args, "--admin-password") ?? throw new ArgumentException("--admin-password is required.");
        var visitors = int.Parse(BenchHost.Arg(args, "--visitors") ?? "100", CultureInfo.InvariantCulture);
        var rate = int.Parse(BenchHost.Arg(args, "--rate") ?? "2000", CultureInfo.InvariantCulture);
        var warmup = TimeSpan.FromSeconds(double.Parse(BenchHost.Arg(args, "--warmup") ?? "5", CultureInfo.InvariantCulture));
        var duration = TimeSpan.FromSeconds(double.Parse(BenchHost.Arg(args, "--duration") ?? "20", CultureInfo.InvariantCulture));
        if (!url.IsLoopback || visitors < 1 || rate < 1 || duration <= TimeSpan.Zero || warmup + duration > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentException("--url must be loopback, --visitors and --rate positive, warmup + duration at most 10 min.");
        }

        await using var receiver = await Receiver.StartAsync();
        using var api = new KefuApi(url, 64);
        var admin = await api.LoginAsync("admin", password, cancellationToken);
        receiver.Secret = await CreateEndpointAsync(url, admin, receiver.Url, cancellationToken);

        var invoker = ClientConnection.CreateInvoker(0);
        var connections = new List<(ClientConnection Connection, string? ConversationId)>();
        var acks = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var readers = new List<Task>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        for (var i = 0; i < visitors; i++)
        {
            var (_, token) = await api.CreateVisitorAsync($"webhook-bench-{i}", null, cancellationToken);
            var connection = await ClientConnection.ConnectAsync(KefuApi.WebSocketUri(url, token), invoker, 64 * 1024, cancellationToken);
            var index = i.ToString(CultureInfo.InvariantCulture);
            readers.Add(connection.ReceiveLoopAsync(f =>
            {
                if (f.Type == "ack" && f.ConversationId is not null)
                {
                    acks.TryAdd(index, f.ConversationId);
                }
            }, stop.Token));
            await connection.SendSendAsync("first", null, ClientConnection.MakeText(Stopwatch.GetTimestamp(), 64), cancellationToken);
            connections.Add((connection, null));
        }

        while (acks.Count < visitors)
        {
            await Task.Delay(20, cancellationToken);
        }

        for (var i = 0; i < visitors; i++)
        {
            connections[i] = (connections[i].Connection, acks[i.ToString(CultureInfo.InvariantCulture)]);
        }

        // The schedule: message k at start + k/rate, round-robin over the visitors; late sends are not skipped.
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        receiver.Window = (measureFrom, measureTo);
        long sent = 0, sentInWindow = 0;
        var sendErrors = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= measureTo)
            {
                break;
            }

            var due = (long)((now - start) * (double)rate / Stopwatch.Frequency);
            var batch = new List<Task>();
            for (; sent < due; sent++)
            {
                var (connection, conversation) = connections[(int)(sent % visitors)];
                var at = start + (long)(sent * (double)Stopwatch.Frequency / rate);
                if (at >= measureFrom)
                {
                    sentInWindow++;
                }

                batch.Add(connection.SendSendAsync("m" + sent.ToString(CultureInfo.InvariantCulture), conversation, ClientConnection.MakeText(at, 64), cancellationToken));
            }

            try
            {
                await Task.WhenAll(batch);
            }
            catch (WebSocketException)
            {
                sendErrors++;
            }

            await Task.Delay(1, cancellationToken);
        }

        // Let deliveries of the window finish (a backlog shows as a low rate and a long tail, not as a hang).
        var drainUntil = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (receiver.InWindow < sentInWindow && DateTime.UtcNow < drainUntil)
        {
            await Task.Delay(100, cancellationToken);
        }

        await stop.CancelAsync();
        foreach (var (connection, _) in connections)
        {
            await connection.DisposeAsync();
        }

        var seconds = duration.TotalSeconds;
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"## Webhook deliveries ({visitors} visitors, {rate} messages/s offered, {warmup.TotalSeconds:0} s warmup, {seconds:0} s measured)")
            .AppendLine()
            .AppendLine("| metric | value |")
            .AppendLine("|---|---|")
            .AppendLine(CultureInfo.InvariantCulture, $"| messages sent in the window | {sentInWindow} ({sentInWindow / seconds:0}/s) |")
            .AppendLine(CultureInfo.InvariantCulture, $"| message.created delivered (2xx, distinct webhook-id) from the window | {receiver.InWindow} ({receiver.InWindow / seconds:0}/s) |")
            .AppendLine(CultureInfo.InvariantCulture, $"| deliveries received in all (incl. away messages, repeats) | {receiver.Total} ({receiver.Repeats} repeats) |")
            .AppendLine(CultureInfo.InvariantCulture, $"| invalid signatures | {receiver.Invalid} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| send errors | {sendErrors} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| commit→delivery p50 / p90 / p99 / max (ms) | {receiver.FromCommit.Summary()} |")
            .AppendLine(CultureInfo.InvariantCulture, $"| send→delivery p50 / p90 / p99 / max (ms) | {receiver.FromSend.Summary()} |");
        Console.WriteLine(report.ToString());
        var ok = receiver.Invalid == 0 && receiver.InWindow >= sentInWindow;
        await new PathResult("webhooks", receiver.InWindow / seconds, "deliveries", receiver.FromCommit.At(0.5), receiver.FromCommit.At(0.99), ok, "commit→delivery")
            .WriteIfAskedAsync(args);
        return ok ? 0 : 3;
    }

    private static async Task<string> CreateEndpointAsync(Uri gateway, string admin, string url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", admin);
        using var response = await http.PostAsJsonAsync("/api/v1/webhooks", new { url, events = (string[])["message.created"], description = "benchmark" }, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/v1/webhooks: {(int)response.StatusCode} {text} (does the gateway allow loopback targets? Kefu__Webhooks__AllowPrivateTargets=true)");
        }

        return JsonDocument.Parse(text).RootElement.GetProperty("secret").GetString()!;
    }

    /// <summary>Latencies in milliseconds (a plain sorted list: a run has at most a few hundred thousand).</summary>
    private sealed class Latencies
    {
        private readonly List<double> _values = [];

        public void Add(double ms)
        {
            lock (_values)
            {
                _values.Add(ms);
            }
        }

        /// <summary>The <paramref name="q"/> quantile in ms, or null without values (for --result).</summary>
        public double? At(double q)
        {
            lock (_values)
            {
                if (_values.Count == 0)
                {
                    return null;
                }

                _values.Sort();
                return _values[Math.Min(_values.Count - 1, (int)(q * _values.Count))];
            }
        }

        public string Summary()
        {
            lock (_values)
            {
                if (_values.Count == 0)
                {
                    return "—";
                }

                _values.Sort();
                double At(double q) => _values[Math.Min(_values.Count - 1, (int)(q * _values.Count))];
                return string.Create(CultureInfo.InvariantCulture, $"{At(0.5):0.0} / {At(0.9):0.0} / {At(0.99):0.0} / {_values[^1]:0.0}");
            }
        }
    }

    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
        private long _inWindow, _total, _repeats, _invalid;

        private Receiver(WebApplication app) => _app = app;

        public string Url => _app.Urls.First() + "/hook";

        public string Secret { get; set; } = "";

        public (long From, long To) Window { get; set; } = (long.MaxValue, long.MaxValue);

        public long InWindow => Interlocked.Read(ref _inWindow);

        public long Total => Interlocked.Read(ref _total);

        public long Repeats => Interlocked.Read(ref _repeats);

        public long Invalid => Interlocked.Read(ref _invalid);

        public Latencies FromCommit { get; } = new();

        public Latencies FromSend { get; } = new();

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", (Delegate)receiver.HandleAsync);
            await app.StartAsync();
            return receiver;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private async Task<IResult> HandleAsync(HttpContext context)
        {
            var arrived = Stopwatch.GetTimestamp();
            var wall = DateTimeOffset.UtcNow;
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var id = context.Request.Headers["webhook-id"].ToString();
            var timestamp = context.Request.Headers["webhook-timestamp"].ToString();
            Interlocked.Increment(ref _total);
            if (!Verifies(id, timestamp, body, context.Request.Headers["webhook-signature"].ToString()))
            {
                Interlocked.Increment(ref _invalid);
            }

            if (!_seen.TryAdd(id, 0))
            {
                Interlocked.Increment(ref _repeats);
                return Results.Ok();
            }

            using var envelope = JsonDocument.Parse(body);
            var root = envelope.RootElement;
            var text = root.GetProperty("data").GetProperty("message").GetProperty("text").GetString();
            if (ClientConnection.TryReadTimestamp(text, out var sentAt) && sentAt >= Window.From && sentAt < Window.To)
            {
                Interlocked.Increment(ref _inWindow);
                FromSend.Add((arrived - sentAt) * 1000.0 / Stopwatch.Frequency);
                FromCommit.Add((wall - root.GetProperty("time").GetDateTimeOffset()).TotalMilliseconds);
            }

            return Results.Ok();
        }

        private bool Verifies(string id, string timestamp, byte[] body, string header)
        {
            var key = Convert.FromBase64String(Secret["whsec_".Length..]);
            var content = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
            var expected = Encoding.ASCII.GetBytes("v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content)));
            return header.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(s), expected));
        }
    }
}
