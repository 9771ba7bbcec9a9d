using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>routing</c>: business events routed end to end per second (docs/performance.md, issue #15). One embedded silo in
/// this process (the gateway's embedded mode without HTTP), a local connector (Kestrel on loopback answering 200 at
/// once) and the seed's kind of route: <c>call</c> the connector with the event's data, then <c>reply_template</c> into
/// the event's conversation. Events enter as <c>POST /api/v1/webhook</c> leaves them (the inbound event grain); an
/// event counts as routed when its route.executed is in the event log. Latency: acceptance → route.executed.
/// </summary>
public static class RoutingRun
{
    public const string Usage = """
        routing mode: dotnet run -c Release --project tests/Benchmarks -- routing [options]
          --events N          events measured (default 5000, after --warmup N events, default 1000)
          --conversations N   conversations the events address (default 100)
          --concurrency N     events accepted at the same time (default 64)
          --no-reply          routes only call the connector (no reply step)
        """;

    private const string Tenant = "bench";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var events = int.Parse(BenchHost.Arg(args, "--events") ?? "5000", CultureInfo.InvariantCulture);
        var warmup = int.Parse(BenchHost.Arg(args, "--warmup") ?? "1000", CultureInfo.InvariantCulture);
        var conversations = int.Parse(BenchHost.Arg(args, "--conversations") ?? "100", CultureInfo.InvariantCulture);
        var concurrency = int.Parse(BenchHost.Arg(args, "--concurrency") ?? "64", CultureInfo.InvariantCulture);
        var reply = !args.Contains("--no-reply");
        if (events < 1 || warmup < 0 || conversations < 1 || concurrency < 1)
        {
            throw new ArgumentException("--events, --conversations and --concurrency must be positive, --warmup not negative.");
        }

        var calls = 0L;
        await using var connector = await StartConnectorAsync(() => Interlocked.Increment(ref calls));
        using var host = await BenchHost.StartSiloAsync(new Dictionary<string, string?>(), cancellationToken);
        var grains = host.Services.GetRequiredService<IGrainFactory>();

        var yaml = $$"""
            connectors:
              ERP:
                kind: http
                baseUrl: "{{connector.Urls.First()}}"
                operations:
                  updateOrder: { method: POST, path: "/orders/{order_id}/sync" }
            routes:
              - match: "order_status"
                actions:
                  - call: "ERP::updateOrder"
            {{(reply ? "      - reply_template: \"您的订单#{order_id}已更新\"" : string.Empty)}}
                timeout: 3s
                retry: 2
            """;
        var set = await grains.GetGrain<IRoutingRulesGrain>(Tenant).Set(yaml, RoutingSources.Api, new Caller(Tenant, ParticipantRole.Agent, "bench", "bench", IsAdmin: true));
        if (!set.Succeeded)
        {
            throw new InvalidOperationException("the benchmark's rules do not compile: " + string.Join("; ", set.Problems.Select(p => $"{p.Line}:{p.Column}: {p.Message}")));
        }

        var conversationIds = new string[conversations];
        for (var i = 0; i < conversations; i++)
        {
            var visitorId = "bench-visitor-" + i.ToString(CultureInfo.InvariantCulture);
            var visitor = grains.GetGrain<IVisitorGrain>(Tenancy.Key(Tenant, visitorId));
            await visitor.Register(new VisitorProfile("Visitor " + i.ToString(CultureInfo.InvariantCulture), null, Tenancy.DefaultInbox, [], DateTimeOffset.UtcNow));
            conversationIds[i] = await visitor.GetOrStartConversation();
        }

        var reader = new ExecutionReader(grains);
        await RoundAsync(grains, reader, warmup, conversationIds, concurrency, cancellationToken);
        var (elapsed, latencies, outcomes) = await RoundAsync(grains, reader, events, conversationIds, concurrency, cancellationToken);

        latencies.Sort();
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"## Routing: events routed end to end ({Environment.ProcessorCount} cores, embedded silo, local connector)")
            .AppendLine()
            .AppendLine("| events | conversations | concurrency | route | routed/s | latency p50 | p99 | max | outcomes |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|")
            .AppendLine(CultureInfo.InvariantCulture,
                $"| {events} | {conversations} | {concurrency} | call{(reply ? " + reply" : string.Empty)} | {events / elapsed.TotalSeconds:0} | {Percentile(latencies, 0.50):0.0} ms | {Percentile(latencies, 0.99):0.0} ms | {latencies[^1]:0.0} ms | {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))} |")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"connector calls: {Interlocked.Read(ref calls)} (warm-up {warmup} events included)");
        Console.WriteLine(report.ToString());
        await host.StopAsync(CancellationToken.None);
        return outcomes.Keys.All(k => k == RouteOutcomes.Succeeded) ? 0 : 3;
    }

    private static async Task<(TimeSpan Elapsed, List<double> LatenciesMs, SortedDictionary<string, int> Outcomes)> RoundAsync(
        IGrainFactory grains, ExecutionReader reader, int count, string[] conversationIds, int concurrency, CancellationToken cancellationToken)
    {
        var accepted = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var key = new Caller(Tenant, ParticipantRole.Bot, "bench-key", "ERP", IsAdmin: false, KeyId: "bench-key");
        var started = Stopwatch.GetTimestamp();
        using var gate = new SemaphoreSlim(concurrency);
        var posts = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var sourceId = "bench-" + Ulid.NewUlid();
                var conversation = conversationIds[i % conversationIds.Length];
                var data = $$"""{"order_id":"{{i}}","status":"shipped"}""";
                var inbound = new InboundEvent(sourceId, "order_status", conversation, null, null, null, data, sourceId, Tenancy.DefaultInbox, null);
                var at = Stopwatch.GetTimestamp();
                var ack = await grains.GetGrain<IInboundEventGrain>(Tenancy.Key(Tenant, sourceId)).Accept(inbound, key);
                accepted[ack.Value?.EventId ?? throw new InvalidOperationException(ack.Error?.Message)] = at;
            }
            finally
            {
                gate.Release();
            }
        }).ToList();

        var latencies = new List<double>(count);
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var postsDone = Task.WhenAll(posts);
        var giveUp = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (latencies.Count < count)
        {
            if (DateTime.UtcNow > giveUp)
            {
                throw new TimeoutException($"only {latencies.Count} of {count} events were routed in 5 minutes");
            }

            if (postsDone.IsFaulted)
            {
                await postsDone;
            }

            foreach (var (trigger, outcome) in await reader.NewAsync())
            {
                if (accepted.TryGetValue(trigger, out var at))
                {
                    latencies.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                }
            }

            await Task.Delay(5, cancellationToken);
        }

        return (Stopwatch.GetElapsedTime(started), latencies, outcomes);
    }

    /// <summary>New route.executed events since the last call: (trigger event id, outcome).</summary>
    private sealed class ExecutionReader(IGrainFactory grains)
    {
        private long _cursor;

        public async Task<List<(string Trigger, string Outcome)>> NewAsync()
        {
            var found = new List<(string, string)>();
            while (true)
            {
                var page = await grains.GetGrain<IEventLogGrain>(Tenant).Read(_cursor, [EventTypes.RouteExecuted], 1000);
                foreach (var e in page.Events)
                {
                    using var document = JsonDocument.Parse(e.DataJson);
                    found.Add((document.RootElement.GetProperty("triggerEventId").GetString()!, document.RootElement.GetProperty("outcome").GetString()!));
                }

                if (page.Next <= _cursor)
                {
                    return found;
                }

                _cursor = page.Next;
            }
        }
    }

    private static async Task<WebApplication> StartConnectorAsync(Action counted)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async context =>
        {
            counted();
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"ok":true}""");
        });
        await app.StartAsync();
        return app;
    }

    private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
