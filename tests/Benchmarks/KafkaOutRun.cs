using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Kefu.Contracts.Events;
using Kefu.Grains.ConversationEvents;
using Kefu.Grains.Events;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>kafka-out</c>: events per second the conversation_events relay puts on Kafka (docs/performance.md, "Kafka outbound").
/// Appends N events (message-sized JSON, spread over C conversations) to an in-memory event log, then runs the relay's
/// step — the code its grain runs: read a page after the cursor, produce it with the silo's idempotent acks=all
/// producer, wait for every delivery report, move the cursor — until the log is drained, and times it. Then a consumer
/// checks the topic took every event once (its end offsets) and reads back what the broker keeps. Against librdkafka's mock cluster in this process by default,
/// or any broker (<c>--bootstrap</c>, e.g. scripts/kafka.sh's).
/// </summary>
public static class KafkaOutRun
{
    public const string Usage = """
        kafka-out mode: dotnet run -c Release --project tests/Benchmarks -- kafka-out [options]
          --events N            events appended, then relayed (default 100000)
          --conversations C     conversations they are spread over (default 1000)
          --batch B             events per relay step (Kefu:Kafka:ConversationEvents:BatchSize, default 500)
          --bytes S             size of each event's text (default 200)
          --format json|protobuf   record values (default json)
          --bootstrap HOST:PORT  a broker to use instead of an in-process mock cluster (loopback only)
          --result FILE.json    write the headline figures as JSON (events/s, relay step p50/p99)
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var count = int.Parse(BenchHost.Arg(args, "--events") ?? "100000", CultureInfo.InvariantCulture);
        var conversations = int.Parse(BenchHost.Arg(args, "--conversations") ?? "1000", CultureInfo.InvariantCulture);
        var batch = int.Parse(BenchHost.Arg(args, "--batch") ?? "500", CultureInfo.InvariantCulture);
        var bytes = int.Parse(BenchHost.Arg(args, "--bytes") ?? "200", CultureInfo.InvariantCulture);
        var format = BenchHost.Arg(args, "--format") ?? ConversationEventsOptions.Json;
        var bootstrap = BenchHost.Arg(args, "--bootstrap");
        if (count < 1 || conversations < 1 || batch < 1 || bytes < 0 || count > 5_000_000)
        {
            throw new ArgumentException("--events (1–5 000 000), --conversations and --batch must be positive, --bytes not negative.");
        }

        if (bootstrap is not null && !bootstrap.Split(',').All(b => b.StartsWith("127.", StringComparison.Ordinal) || b.StartsWith("localhost:", StringComparison.Ordinal)))
        {
            throw new ArgumentException("--bootstrap must be on loopback.");
        }

        using var mock = bootstrap is null ? MockCluster(out bootstrap) : null;
        var topic = "conversation_events_bench_" + Guid.NewGuid().ToString("N")[..8];
        var options = new ConversationEventsOptions { BootstrapServers = bootstrap, Topic = topic, BatchSize = batch, Format = format };
        if (options.Problem() is { } problem)
        {
            throw new ArgumentException(problem);
        }

        const string tenant = "bench";
        var log = new InMemoryEventLog(Options.Create(new EventLogOptions()), TimeProvider.System);
        var text = new string('x', bytes);
        var seqs = new long[conversations];
        var ids = new string[conversations];
        for (var c = 0; c < conversations; c++)
        {
            ids[c] = Ulid.NewUlid().ToString();
        }

        var appended = Stopwatch.StartNew();
        for (var start = 0; start < count; start += 1000)
        {
            var now = DateTimeOffset.UtcNow;
            var page = Enumerable.Range(start, Math.Min(1000, count - start)).Select(i =>
            {
                var c = i % conversations;
                return new DomainEvent(Ulid.NewUlid(), tenant, ids[c], ++seqs[c], now, Causation.Of("benchmark"),
                    new CustomEvent("custom.bench", $"{{\"i\":{i},\"text\":\"{text}\"}}", ids[c]));
            }).ToList();
            await log.AppendAsync(page, cancellationToken);
        }

        appended.Stop();
        using var producer = new ConversationEventsProducer(Options.Create(options), NullLogger<ConversationEventsProducer>.Instance);
        var relay = new ConversationEventsRelay(log, producer, options);

        // Warm-up: connections and metadata, so the run measures relaying.
        await producer.ProduceAsync([new Message<byte[], byte[]> { Key = [0], Value = [0] }], cancellationToken);

        var cursor = 0L;
        var produced = 0L;
        var steps = 0;
        var relayed = Stopwatch.StartNew();
        // Each step's duration (read a page, produce it, every acknowledgement in): the delay the relay adds to the
        // last event of a page, the latency figure of this path.
        var stepMs = new List<double>();
        while (true)
        {
            var stepStart = Stopwatch.GetTimestamp();
            var step = await relay.StepAsync(tenant, cursor, DateTimeOffset.UtcNow, cancellationToken);
            stepMs.Add(Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds);
            if (step.Failure is { } failure)
            {
                throw new InvalidOperationException("delivery failed: " + failure);
            }

            steps++;
            produced += step.Produced;
            cursor = step.Cursor;
            if (!step.More)
            {
                break;
            }
        }

        relayed.Stop();
        var read = Stopwatch.StartNew();
        var (onTopic, readBack) = CountOnTopic(bootstrap!, topic, cancellationToken);
        read.Stop();

        var rate = produced / relayed.Elapsed.TotalSeconds;
        stepMs.Sort();
        double StepAt(double q) => stepMs[Math.Min(stepMs.Count - 1, (int)(q * stepMs.Count))];
        Console.WriteLine($"""
            ## kafka-out: {count:N0} events, {conversations:N0} conversations, {bytes} B text, {format}, batch {batch}, {(mock is null ? "broker " + bootstrap : "in-process mock cluster (3 brokers)")}

            | measure | value |
            |---|---|
            | appended to the in-memory log | {appended.Elapsed.TotalSeconds:F2} s |
            | relayed (produced, every delivery report in, acks=all) | {produced:N0} events in {relayed.Elapsed.TotalSeconds:F2} s = **{rate:N0} events/s** ({steps} steps) |
            | on the topic (sum of the partitions' end offsets) | {onTopic:N0} records |
            | read back (what the broker still keeps) | {readBack:N0} records in {read.Elapsed.TotalSeconds:F2} s |
            | relay step (read, produce, all acks) p50 / p99 | {StepAt(0.5):F1} / {StepAt(0.99):F1} ms |
            """);
        var ok = onTopic >= count && produced == count;
        await new PathResult("kafka-out", rate, "events relayed", StepAt(0.5), StepAt(0.99), ok, "relay step").WriteIfAskedAsync(args);
        return ok ? 0 : 3;
    }

    private static IAdminClient MockCluster(out string bootstrap)
    {
        var config = new AdminClientConfig();
        config.Set("test.mock.num.brokers", "3");
        var admin = new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
        bootstrap = string.Join(',', admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => $"{b.Host}:{b.Port}"));
        return admin;
    }

    /// <summary>
    /// Records the topic's partitions took (the sum of their end offsets: with idempotence each record once), and those
    /// read back from what the broker still keeps (librdkafka's mock cluster keeps only the newest part of a partition).
    /// </summary>
    private static (long Appended, long ReadBack) CountOnTopic(string bootstrap, string topic, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "bench-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var marks = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)));
        var appended = marks.Values.Sum(w => w.High.Value);
        var open = marks.Where(m => m.Value.High.Value > m.Value.Low.Value).Select(m => m.Key).ToHashSet();
        consumer.Assign(partitions.Where(p => open.Contains(p.Partition.Value)).Select(p => new TopicPartitionOffset(p, marks[p.Partition.Value].Low)));
        var records = 0L;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (open.Count > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
            {
                continue;
            }

            records++;
            if (result.Offset.Value + 1 >= marks[result.Partition.Value].High.Value)
            {
                open.Remove(result.Partition.Value);
            }
        }

        return (appended - 1, records); // less the warm-up record
    }
}
