using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using HdrHistogram;
using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Integration;
using Kefu.Gateway.Grpc;
using Kefu.Gateway.Hosting;
using Kefu.Grains.Events;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>grpc-fanout</c>: N gRPC subscribers on one embedded gateway (docs/performance.md "gRPC subscribers (issue #16)").
/// The gateway runs in this process as <c>dotnet run --project gateway</c> runs it (embedded silo, in-memory storage) with
/// gRPC on a free loopback port. Each subscriber has its own channel (its own HTTP/2 connection) and Subscribes to
/// <c>inbound.received</c>; a publisher sends business events with gRPC <c>Publish</c> at a fixed rate. Fan-out = events
/// delivered to all subscribers per second; latency = the event's commit time (its envelope <c>time</c>) → a subscriber
/// has it, over every delivery. The clients share the process and the two cores with the gateway. <c>--direct</c> appends
/// to the event log instead (the fan-out alone).
/// </summary>
public static class GrpcFanoutRun
{
    public const string Usage = """
        grpc-fanout mode: dotnet run -c Release --project tests/Benchmarks -- grpc-fanout [options]
          --subscribers N   gRPC Subscribe streams, one channel each (default 100)
          --events N        events published and measured (default 2000, after --warmup N, default 200)
          --rate N          events published per second (default 200)
          --poll-ms N       the gateway's Kefu:Grpc:PollInterval in ms (default 100)
          --direct          append the events straight to the gateway's event log (custom.bench events) instead of
                            publishing them over gRPC: the fan-out alone, without the cost of Publish
          --result FILE.json  write the headline figures as JSON (deliveries/s, commit→subscriber p50/p99)
        Stops by itself: setup and each phase are bounded (60 s + the time the events take at the rate, twice over).
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var subscribers = Int(args, "--subscribers", 100);
        var events = Int(args, "--events", 2000);
        var warmup = Int(args, "--warmup", 200);
        var rate = Int(args, "--rate", 200);
        var pollMs = Int(args, "--poll-ms", 100);
        var direct = args.Contains("--direct");
        var type = direct ? "custom.bench" : "inbound.received";
        if (subscribers is < 1 or > 1000 || events < 1 || warmup < 0 || rate is < 1 or > 100_000 || pollMs < 1)
        {
            throw new ArgumentException("--subscribers 1..1000, --events ≥ 1, --warmup ≥ 0, --rate 1..100000 and --poll-ms ≥ 1.");
        }

        var grpcPort = BenchHost.FreePort();
        await using var app = await StartGatewayAsync(grpcPort, pollMs);
        var http = new Uri(app.Urls.First(u => !u.EndsWith(":" + grpcPort, StringComparison.Ordinal)));
        var key = await CreateKeyAsync(http, cancellationToken);
        var address = new Uri($"http://127.0.0.1:{grpcPort}");

        var readers = new List<Subscriber>();
        try
        {
            for (var i = 0; i < subscribers; i++)
            {
                readers.Add(Subscriber.Start(address, key, type, cancellationToken));
            }

            using (var setup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                setup.CancelAfter(TimeSpan.FromSeconds(60));
                await Task.WhenAll(readers.Select(r => r.CaughtUp.WaitAsync(setup.Token)));
            }

            using var publisherChannel = GrpcChannel.ForAddress(address);
            var client = Client(publisherChannel, key);
            var log = app.Services.GetRequiredService<IEventLog>();
            Func<string, int, Task> publish = direct
                ? (prefix, count) => AppendAsync(log, count, rate, cancellationToken)
                : (prefix, count) => PublishAsync(client, prefix, count, rate, cancellationToken);
            var run = Guid.NewGuid().ToString("N")[..8];
            if (warmup > 0)
            {
                await publish(run + "-w", warmup);
                await WaitAllAsync(readers, warmup, PhaseLimit(warmup, rate), cancellationToken);
            }

            foreach (var reader in readers)
            {
                reader.Reset();
            }

            var tails = app.Services.GetRequiredService<EventTails>();
            var readsBefore = tails.Reads;
            var stopwatch = Stopwatch.StartNew();
            await publish(run + "-m", events);
            var published = stopwatch.Elapsed;
            var complete = await WaitAllAsync(readers, events, PhaseLimit(events, rate), cancellationToken);
            var elapsed = stopwatch.Elapsed;
            var reads = tails.Reads - readsBefore;

            var latency = new LongHistogram(600_000_000, 3);
            long delivered = 0;
            foreach (var reader in readers)
            {
                latency.Add(reader.Latency);
                delivered += reader.Count;
            }

            Console.WriteLine($"| subscribers | events | publish rate (events/s) | fan-out (deliveries/s) | latency p50 / p99 / max (ms) | tail reads/s | complete |");
            Console.WriteLine("|---:|---:|---:|---:|---|---:|---|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {subscribers} | {events} | {events / published.TotalSeconds:F0} | {delivered / elapsed.TotalSeconds:F0} | " +
                $"{Ms(latency, 50)} / {Ms(latency, 99)} / {latency.GetMaxValue() / 1000.0:F1} | {reads / elapsed.TotalSeconds:F1} | {(complete ? "yes" : $"no: {delivered} of {(long)events * subscribers}")} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{(direct ? "appended to the log" : "published over gRPC")}; poll interval {pollMs} ms; {tails.Dropped} subscriber(s) dropped from the tail for falling behind; measured {elapsed.TotalSeconds:F1} s."));
            await new PathResult("grpc-fanout", delivered / elapsed.TotalSeconds, "deliveries", latency.TotalCount > 0 ? latency.GetValueAtPercentile(50) / 1000.0 : null,
                latency.TotalCount > 0 ? latency.GetValueAtPercentile(99) / 1000.0 : null, complete, "commit→subscriber").WriteIfAskedAsync(args);
            return complete ? 0 : 3;
        }
        finally
        {
            foreach (var reader in readers)
            {
                await reader.DisposeAsync();
            }
        }
    }

    private static TimeSpan PhaseLimit(int events, int rate) => TimeSpan.FromSeconds(60 + (2.0 * events / rate));

    private static async Task PublishAsync(Integration.IntegrationClient client, string prefix, int count, int rate, CancellationToken cancellationToken)
    {
        // On a schedule (event i at i/rate s), several in flight, so a slow answer does not slow the rate down.
        var start = Stopwatch.GetTimestamp();
        using var inFlight = new SemaphoreSlim(32);
        var calls = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            await inFlight.WaitAsync(cancellationToken);
            var id = prefix + "-" + i.ToString(CultureInfo.InvariantCulture);
            calls.Add(Task.Run(async () =>
            {
                try
                {
                    await client.PublishAsync(new PublishRequest { Event = new InboundEvent { Id = id, Type = "bench" } },
                        deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
                }
                finally
                {
                    inFlight.Release();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(calls);
    }

    private static async Task AppendAsync(IEventLog log, int count, int rate, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            var now = DateTimeOffset.UtcNow;
            await log.AppendAsync([new DomainEvent(Ulid.NewUlid(now), Tenancy.DefaultTenant, null, 0, now, Causation.Of("bench"), new CustomEvent("custom.bench", "{}"))], cancellationToken);
        }
    }

    private static async Task<bool> WaitAllAsync(List<Subscriber> readers, int events, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (readers.Any(r => r.Count < events))
        {
            if (Stopwatch.GetTimestamp() > deadline || readers.Any(r => r.Failure is not null))
            {
                if (readers.FirstOrDefault(r => r.Failure is not null)?.Failure is { } failure)
                {
                    await Console.Error.WriteLineAsync("a subscriber failed: " + failure.Message);
                }

                return false;
            }

            await Task.Delay(10, cancellationToken);
        }

        return true;
    }

    private static string Ms(LongHistogram h, double percentile) =>
        (h.GetValueAtPercentile(percentile) / 1000.0).ToString("F1", CultureInfo.InvariantCulture);

    private static Task<WebApplication> StartGatewayAsync(int grpcPort, int pollMs) =>
        BenchHost.StartGatewayAsync("grpc", new Dictionary<string, string?>
        {
            ["Kefu:Grpc:Url"] = $"http://127.0.0.1:{grpcPort}",
            ["Kefu:Grpc:PollInterval"] = TimeSpan.FromMilliseconds(pollMs).ToString(),
            ["Kefu:ApiKeys:RequestsPerSecond"] = "0",
        });

    private static async Task<string> CreateKeyAsync(Uri http, CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = http };
        var login = await client.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = BenchHost.AdminPassword }, cancellationToken);
        login.EnsureSuccessStatusCode();
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("token").GetString();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var created = await client.PostAsJsonAsync("/api/v1/api-keys", new { name = "grpc-fanout", scopes = new[] { "events:read", "events:write" } }, cancellationToken);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("key").GetString()!;
    }

    private static Integration.IntegrationClient Client(GrpcChannel channel, string key) =>
        new(channel.CreateCallInvoker().Intercept(metadata =>
        {
            metadata.Add("authorization", "Bearer " + key);
            return metadata;
        }));

    private static int Int(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>One Subscribe stream on its own channel, counting inbound.received events and their latency.</summary>
    private sealed class Subscriber : IAsyncDisposable
    {
        private readonly GrpcChannel _channel;
        private readonly CancellationTokenSource _stop;
        private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private Task _reading = Task.CompletedTask;
        private long _count;

        private Subscriber(GrpcChannel channel, CancellationTokenSource stop)
        {
            _channel = channel;
            _stop = stop;
        }

        public Task CaughtUp => _caughtUp.Task;

        public long Count => Interlocked.Read(ref _count);

        public LongHistogram Latency { get; private set; } = new(600_000_000, 3);

        public Exception? Failure { get; private set; }

        public static Subscriber Start(Uri address, string key, string type, CancellationToken cancellationToken)
        {
            var subscriber = new Subscriber(GrpcChannel.ForAddress(address), CancellationTokenSource.CreateLinkedTokenSource(cancellationToken));
            subscriber._reading = Task.Run(() => subscriber.ReadAsync(key, type));
            return subscriber;
        }

        public void Reset()
        {
            lock (_gate)
            {
                Latency = new LongHistogram(600_000_000, 3);
                Interlocked.Exchange(ref _count, 0);
            }
        }

        private async Task ReadAsync(string key, string type)
        {
            try
            {
                using var call = Client(_channel, key).Subscribe(new SubscribeRequest { Types_ = { type } }, cancellationToken: _stop.Token);
                await foreach (var message in call.ResponseStream.ReadAllAsync(_stop.Token))
                {
                    if (message.CaughtUp is not null)
                    {
                        _caughtUp.TrySetResult();
                    }
                    else if (message.Event is { } e)
                    {
                        var now = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
                        lock (_gate)
                        {
                            Latency.RecordValue(Math.Clamp(now - e.Time, 0, 600_000_000));
                            Interlocked.Increment(ref _count);
                        }
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException || (e is RpcException { StatusCode: StatusCode.Cancelled } && _stop.IsCancellationRequested))
            {
            }
            catch (Exception e)
            {
                Failure = e;
                _caughtUp.TrySetException(e);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reading;
            _stop.Dispose();
            _channel.Dispose();
        }
    }
}
