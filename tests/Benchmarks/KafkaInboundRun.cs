using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using HdrHistogram;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Hosting;
using Kefu.Grains.Inbound.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>kafka-in</c>: business events applied end to end from Kafka <c>customer_events</c> (issue #16). librdkafka's mock
/// cluster in this process and one embedded silo with Kafka configured (the gateway's embedded mode with
/// <c>Kefu:Kafka:BootstrapServers</c>: in-memory storage and event log, streams and customer_events over Kafka). After a
/// warm-up event per partition is applied, N events (JSON, keyed by id, spread over the 4 partitions) are produced as
/// fast as the producer goes; an event counts as applied when the consumer group's committed offsets are past it
/// (committed only after its inbound.received is durable or it was dead-lettered; every 50 ms here, not every second). Throughput = N / (first produce →
/// all committed). The event log is then checked: exactly N inbound.received, nothing dead-lettered.
/// <para>
/// With <c>--rate R</c> (issue #21 item 5: Kafka in needs a latency, which a backlog cannot give: the last event waits for
/// all the others) the events are produced on a schedule instead, event i at i/R s after a warm-up of <c>--warmup</c>
/// events at the same rate, so the consumer is never behind by more than what it cannot keep up with. Latency per event =
/// its produce call (wall clock, just before <c>ProduceAsync</c>) → the <c>Time</c> of its <c>inbound.received</c> in the
/// event log (stamped when the event is appended, same process, same clock). It includes the producer's 5 ms linger and
/// the consumer's fetch wait, not the offset commit (bookkeeping after the event is durable).
/// </para>
/// </summary>
public static class KafkaInboundRun
{
    public const string Usage = """
        kafka-in mode: dotnet run -c Release --project tests/Benchmarks -- kafka-in [options]
          --events N      events to produce and apply (default 5000)
          --contacts K    each event names one of K contacts (found or created, with its conversation); 0 = none (default 100)
          --duplicates P  percent of events produced a second time (a sender's retry; absorbed by the id; default 0)
          --batch N       Kefu:Kafka:CustomerEvents:BatchSize: records a partition's consumer applies at once (default 64; 1 = one at a time)
          --rate R        produce R events/s on a schedule (latency mode: produce → inbound.received p50/p99); 0 = all at once,
                          a backlog (throughput mode, no latency; default 0)
          --warmup W      with --rate: events produced at the rate before the measured ones, not measured (default 2 × R)
          --fetch-wait-ms M  Kefu:Kafka:Client:fetch.wait.max.ms for the silo's Kafka clients (default: librdkafka's, 500):
                          how long a fetch may wait for data on the broker, a part of the latency
          --result FILE.json  write the headline figures as JSON (applied events/s; p50/p99 with --rate, null for a backlog)
        """;

    /// <summary>What the rate mode's latency measures (the JSON's <c>latency</c> and measure-all.sh's table).</summary>
    public const string RateLatency = "produce→inbound.received";

    private const string Topic = "customer_events";
    private const int Partitions = 4;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var events = int.Parse(BenchHost.Arg(args, "--events") ?? "5000", CultureInfo.InvariantCulture);
        var contacts = int.Parse(BenchHost.Arg(args, "--contacts") ?? "100", CultureInfo.InvariantCulture);
        var duplicates = int.Parse(BenchHost.Arg(args, "--duplicates") ?? "0", CultureInfo.InvariantCulture);
        var batch = int.Parse(BenchHost.Arg(args, "--batch") ?? "64", CultureInfo.InvariantCulture);
        var rate = int.Parse(BenchHost.Arg(args, "--rate") ?? "0", CultureInfo.InvariantCulture);
        var warmup = int.Parse(BenchHost.Arg(args, "--warmup") ?? (2 * rate).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (events < 1 || contacts < 0 || duplicates is < 0 or > 100 || batch < 1 || rate is < 0 or > 100_000 || warmup < 0)
        {
            throw new ArgumentException("--events at least 1, --contacts not negative, --duplicates 0 to 100, --batch at least 1, --rate 0 to 100000, --warmup not negative.");
        }

        var adminConfig = new AdminClientConfig();
        adminConfig.Set("test.mock.num.brokers", "3");
        using var admin = new AdminClientBuilder(adminConfig).SetLogHandler((_, _) => { }).Build();
        var bootstrap = string.Join(',', admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => $"{b.Host}:{b.Port}"));
        using var host = await StartSiloAsync(bootstrap, batch, BenchHost.Arg(args, "--fetch-wait-ms"), cancellationToken);
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 })
            .SetLogHandler((_, _) => { })
            .Build();

        // Warm-up: one event per partition, applied (the readers are assigned, the grains active).
        var run = Guid.NewGuid().ToString("N")[..8];
        for (var p = 0; p < Partitions; p++)
        {
            await producer.ProduceAsync(new TopicPartition(Topic, p), Record($"warm-{run}-{p}", null));
        }

        await WaitCommittedAsync(bootstrap, Partitions, TimeSpan.FromSeconds(60), cancellationToken);

        var random = new Random(42);
        var produced = 0;
        var warmedUp = 0;
        var sentAt = new Dictionary<string, DateTimeOffset>(events);
        var writes = new List<Task>(events + warmup);

        // Produces one event; with a rate, first waits for its slot on the schedule (n / rate s after the start), so a
        // slow broker or consumer does not slow the producer down (no coordinated omission).
        async Task SendAsync(int n, string id, string? externalId, long scheduleStart, bool timed)
        {
            if (rate > 0)
            {
                var due = TimeSpan.FromSeconds((double)n / rate) - Stopwatch.GetElapsedTime(scheduleStart);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken);
                }
            }

            var record = Record(id, externalId);
            if (timed)
            {
                sentAt[id] = DateTimeOffset.UtcNow;
            }

            writes.Add(producer.ProduceAsync(Topic, record, cancellationToken));
            produced++;
            if (duplicates > 0 && random.Next(100) < duplicates)
            {
                writes.Add(producer.ProduceAsync(Topic, record, cancellationToken));
                produced++;
            }
        }

        var scheduleStart = Stopwatch.GetTimestamp();
        if (rate > 0)
        {
            for (var i = 0; i < warmup; i++)
            {
                await SendAsync(i, $"warm-{run}-r{i}", contacts > 0 ? $"u-{run}-{i % contacts}" : null, scheduleStart, timed: false);
            }

            warmedUp = produced;
            produced = 0;
        }

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < events; i++)
        {
            await SendAsync(rate > 0 ? warmup + i : 0, $"bench-{run}-{i}", contacts > 0 ? $"u-{run}-{i % contacts}" : null, scheduleStart, timed: true);
        }

        await Task.WhenAll(writes);
        var producedIn = Stopwatch.GetElapsedTime(start);
        await WaitCommittedAsync(bootstrap, Partitions + warmedUp + produced, TimeSpan.FromMinutes(10), cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(start);

        var (received, appliedAt) = await ReadReceivedAsync(grains, $"bench-{run}-", cancellationToken);
        var deadLetters = DeadLetterCount(bootstrap);
        var latency = rate > 0 ? LatencyUs(sentAt, appliedAt) : null;
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"kafka-in: {events} events ({produced - events} duplicates), {(rate > 0 ? $"{rate}/s after {warmup} warm-up events" : "a backlog (all at once)")}, {(contacts > 0 ? $"{contacts} contacts" : "no contact")}, batch {batch}, 1 embedded silo, mock Kafka cluster in process, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        report.AppendLine();
        report.AppendLine("| events | produced in | applied in | applied events/s | latency p50 / p99 / max (ms) | inbound.received | dead-lettered |");
        report.AppendLine("|---|---|---|---|---|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {events} | {producedIn.TotalSeconds:F2} s | {elapsed.TotalSeconds:F2} s | **{events / elapsed.TotalSeconds:F0}** | {(latency is null ? "— (a backlog)" : $"{Ms(latency, 50):F1} / {Ms(latency, 99):F1} / {latency.GetMaxValue() / 1000.0:F1}")} | {received} | {deadLetters} |");
        Console.WriteLine(report);
        await host.StopAsync(CancellationToken.None);
        // In rate mode every measured event must have its own inbound.received (its latency), none missing.
        var ok = received == events && deadLetters == 0 && (latency is null || latency.TotalCount == events);
        await new PathResult("kafka-in", events / elapsed.TotalSeconds, "events applied", latency is null ? null : Ms(latency, 50),
            latency is null ? null : Ms(latency, 99), ok, latency is null ? null : RateLatency).WriteIfAskedAsync(args);
        return ok ? 0 : 3;
    }

    private static Message<byte[], byte[]> Record(string id, string? externalId)
    {
        var body = new Dictionary<string, object> { ["id"] = id, ["type"] = "order_status", ["data"] = new Dictionary<string, string> { ["order_id"] = id, ["status"] = "shipped" } };
        if (externalId is not null)
        {
            body["contact"] = new Dictionary<string, string> { ["externalId"] = externalId };
        }

        return new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(id),
            Value = JsonSerializer.SerializeToUtf8Bytes(body),
            Headers = new Headers { { "content-type", "application/json"u8.ToArray() } },
        };
    }

    /// <summary>Waits until the group's committed offsets over the topic's partitions add up to <paramref name="total"/>.</summary>
    private static async Task WaitCommittedAsync(string bootstrap, long total, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = new CustomerEventsOptions().ConsumerGroup })
            .SetLogHandler((_, _) => { })
            .Build();
        var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList();
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(5)).Sum(o => o.Offset.IsSpecial ? 0 : o.Offset.Value);
            if (committed >= total)
            {
                return;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"Only {committed} of {total} records were committed within {timeout}.");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>
    /// The inbound.received events whose source id starts with <paramref name="prefix"/>: how many (a duplicate applied
    /// twice would count twice) and, per source id, the first one's time (when it was appended to the event log).
    /// </summary>
    private static async Task<(int Count, Dictionary<string, DateTimeOffset> AppliedAt)> ReadReceivedAsync(
        IGrainFactory grains, string prefix, CancellationToken cancellationToken)
    {
        var count = 0;
        var appliedAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var after = 0L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await grains.GetGrain<IEventLogGrain>(Tenancy.DefaultTenant).Read(after, [EventTypes.InboundReceived], 500);
            foreach (var e in page.Events)
            {
                if (!e.DataJson.Contains($"\"sourceId\":\"{prefix}", StringComparison.Ordinal))
                {
                    continue;
                }

                count++;
                using var data = JsonDocument.Parse(e.DataJson);
                appliedAt.TryAdd(data.RootElement.GetProperty("sourceId").GetString()!, e.Time);
            }

            if (page.Events.Length == 0 || page.Next <= after)
            {
                return (count, appliedAt);
            }

            after = page.Next;
        }
    }

    /// <summary>Produce → applied in µs for every produced event that has its inbound.received (missing ones are not recorded).</summary>
    internal static LongHistogram LatencyUs(IReadOnlyDictionary<string, DateTimeOffset> sentAt, IReadOnlyDictionary<string, DateTimeOffset> appliedAt)
    {
        var histogram = new LongHistogram(600_000_000, 3);
        foreach (var (id, sent) in sentAt)
        {
            if (appliedAt.TryGetValue(id, out var applied))
            {
                // Clamped at 0: the event's time has the clock's resolution, a fast apply may read as a hair before the send.
                histogram.RecordValue(Math.Clamp((long)(applied - sent).TotalMicroseconds, 0, 600_000_000));
            }
        }

        return histogram;
    }

    private static double Ms(LongHistogram histogram, double percentile) => histogram.GetValueAtPercentile(percentile) / 1000.0;

    private static long DeadLetterCount(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-dlq" }).SetLogHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var topic = admin.GetMetadata("customer_events.dlq", TimeSpan.FromSeconds(5)).Topics.SingleOrDefault();
        return topic is null || topic.Error.IsError ? 0 : topic.Partitions.Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic.Topic, p.PartitionId), TimeSpan.FromSeconds(5)).High.Value);
    }

    private static Task<IHost> StartSiloAsync(string bootstrap, int batch, string? fetchWaitMs, CancellationToken cancellationToken)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kefu:Kafka:BootstrapServers"] = bootstrap,
            ["Kefu:Kafka:CustomerEvents:BatchSize"] = batch.ToString(CultureInfo.InvariantCulture),
            // The end is seen in the committed offsets: commit often, so the measurement is not rounded up to the second.
            ["Kefu:Kafka:CustomerEvents:CommitInterval"] = "00:00:00.050",
        };
        if (fetchWaitMs is not null)
        {
            // Only when asked: unset = librdkafka's default, as in production unless Kefu:Kafka:Client says otherwise.
            settings["Kefu:Kafka:Client:fetch.wait.max.ms"] = int.Parse(fetchWaitMs, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
        }

        return BenchHost.StartSiloAsync(settings, cancellationToken);
    }
}
