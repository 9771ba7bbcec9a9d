using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
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
/// </summary>
public static class KafkaInboundRun
{
    public const string Usage = """
        kafka-in mode: dotnet run -c Release --project tests/Benchmarks -- kafka-in [options]
          --events N      events to produce and apply (default 5000)
          --contacts K    each event names one of K contacts (found or created, with its conversation); 0 = none (default 100)
          --duplicates P  percent of events produced a second time (a sender's retry; absorbed by the id; default 0)
          --batch N       Kefu:Kafka:CustomerEvents:BatchSize: records a partition's consumer applies at once (default 64; 1 = one at a time)
          --result FILE.json  write the headline figures as JSON (applied events/s; no latency: the events are a backlog)
        """;

    private const string Topic = "customer_events";
    private const int Partitions = 4;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var events = int.Parse(BenchHost.Arg(args, "--events") ?? "5000", CultureInfo.InvariantCulture);
        var contacts = int.Parse(BenchHost.Arg(args, "--contacts") ?? "100", CultureInfo.InvariantCulture);
        var duplicates = int.Parse(BenchHost.Arg(args, "--duplicates") ?? "0", CultureInfo.InvariantCulture);
        var batch = int.Parse(BenchHost.Arg(args, "--batch") ?? "64", CultureInfo.InvariantCulture);
        if (events < 1 || contacts < 0 || duplicates is < 0 or > 100 || batch < 1)
        {
            throw new ArgumentException("--events at least 1, --contacts not negative, --duplicates 0 to 100, --batch at least 1.");
        }

        var adminConfig = new AdminClientConfig();
        adminConfig.Set("test.mock.num.brokers", "3");
        using var admin = new AdminClientBuilder(adminConfig).SetLogHandler((_, _) => { }).Build();
        var bootstrap = string.Join(',', admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => $"{b.Host}:{b.Port}"));
        using var host = await StartSiloAsync(bootstrap, batch, cancellationToken);
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
        var start = Stopwatch.GetTimestamp();
        var writes = new List<Task>(events);
        for (var i = 0; i < events; i++)
        {
            var id = $"bench-{run}-{i}";
            var record = Record(id, contacts > 0 ? $"u-{run}-{i % contacts}" : null);
            writes.Add(producer.ProduceAsync(Topic, record, cancellationToken));
            produced++;
            if (duplicates > 0 && random.Next(100) < duplicates)
            {
                writes.Add(producer.ProduceAsync(Topic, record, cancellationToken));
                produced++;
            }
        }

        await Task.WhenAll(writes);
        var producedIn = Stopwatch.GetElapsedTime(start);
        await WaitCommittedAsync(bootstrap, Partitions + produced, TimeSpan.FromMinutes(10), cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(start);

        var received = await CountReceivedAsync(grains, $"bench-{run}-", cancellationToken);
        var deadLetters = DeadLetterCount(bootstrap);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"kafka-in: {events} events ({produced - events} duplicates), {(contacts > 0 ? $"{contacts} contacts" : "no contact")}, batch {batch}, 1 embedded silo, mock Kafka cluster in process, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        report.AppendLine();
        report.AppendLine("| events | produced in | applied in | applied events/s | inbound.received | dead-lettered |");
        report.AppendLine("|---|---|---|---|---|---|");
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {events} | {producedIn.TotalSeconds:F2} s | {elapsed.TotalSeconds:F2} s | **{events / elapsed.TotalSeconds:F0}** | {received} | {deadLetters} |");
        Console.WriteLine(report);
        await host.StopAsync(CancellationToken.None);
        var ok = received == events && deadLetters == 0;
        await new PathResult("kafka-in", events / elapsed.TotalSeconds, "events applied", null, null, ok, null).WriteIfAskedAsync(args);
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

    private static async Task<int> CountReceivedAsync(IGrainFactory grains, string prefix, CancellationToken cancellationToken)
    {
        var count = 0;
        var after = 0L;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await grains.GetGrain<IEventLogGrain>(Tenancy.DefaultTenant).Read(after, [EventTypes.InboundReceived], 500);
            count += page.Events.Count(e => e.DataJson.Contains($"\"sourceId\":\"{prefix}", StringComparison.Ordinal));
            if (page.Events.Length == 0 || page.Next <= after)
            {
                return count;
            }

            after = page.Next;
        }
    }

    private static long DeadLetterCount(string bootstrap)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-dlq" }).SetLogHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var topic = admin.GetMetadata("customer_events.dlq", TimeSpan.FromSeconds(5)).Topics.SingleOrDefault();
        return topic is null || topic.Error.IsError ? 0 : topic.Partitions.Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic.Topic, p.PartitionId), TimeSpan.FromSeconds(5)).High.Value);
    }

    private static Task<IHost> StartSiloAsync(string bootstrap, int batch, CancellationToken cancellationToken) =>
        BenchHost.StartSiloAsync(new Dictionary<string, string?>
        {
            ["Kefu:Kafka:BootstrapServers"] = bootstrap,
            ["Kefu:Kafka:CustomerEvents:BatchSize"] = batch.ToString(CultureInfo.InvariantCulture),
            // The end is seen in the committed offsets: commit often, so the measurement is not rounded up to the second.
            ["Kefu:Kafka:CustomerEvents:CommitInterval"] = "00:00:00.050",
        }, cancellationToken);
}
