using System.Text;
using Confluent.Kafka;
using Kefu.Gateway.Hosting;
using Kefu.Grains.Inbound.Kafka;

namespace Kefu.Gateway.Tests.Kafka;

/// <summary>
/// <c>Kefu.Gateway kafka replay-dlq</c> (docs/integration.md §14) on librdkafka's mock cluster in this process: every
/// dead letter goes back to customer_events with its key, value and own headers (the kefu-* error headers removed),
/// once — a second run finds nothing new; usage and configuration errors exit 2 without touching Kafka.
/// </summary>
public sealed class KafkaReplayCommandTests : IDisposable
{
    private const string DeadLetterTopic = "customer_events.dlq";
    private const string Topic = "customer_events";
    private readonly IAdminClient _cluster;
    private readonly string _bootstrap;

    public KafkaReplayCommandTests()
    {
        var config = new AdminClientConfig();
        config.Set("test.mock.num.brokers", "1");
        _cluster = new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
        _bootstrap = string.Join(',', _cluster.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => $"{b.Host}:{b.Port}"));
    }

    public void Dispose() => _cluster.Dispose();

    [Fact]
    public async Task Replay_sends_each_dead_letter_back_once_with_its_own_headers()
    {
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = _bootstrap }).SetLogHandler((_, _) => { }).Build())
        {
            for (var i = 0; i < 3; i++)
            {
                var headers = new Headers
                {
                    { "content-type", "application/json"u8.ToArray() },
                    { "trace-id", Encoding.UTF8.GetBytes($"t{i}") },
                    { DeadLetterHeaders.ErrorCode, "not_found"u8.ToArray() },
                    { DeadLetterHeaders.ErrorMessage, "Conversation was not found."u8.ToArray() },
                    { DeadLetterHeaders.OriginalTopic, "customer_events"u8.ToArray() },
                    { DeadLetterHeaders.Attempts, "5"u8.ToArray() },
                };
                await producer.ProduceAsync(new TopicPartition(DeadLetterTopic, 0), new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes($"evt-{i}"), Value = Encoding.UTF8.GetBytes($$"""{"id":"evt-{{i}}","type":"t"}"""), Headers = headers,
                });
            }
        }

        var (exit, output) = await RunAsync("kafka", "replay-dlq", $"--Kefu:Kafka:BootstrapServers={_bootstrap}");
        Assert.True(exit == 0, output);
        Assert.Contains("3 records replayed from customer_events.dlq to customer_events", output, StringComparison.Ordinal);

        var replayed = Read(Topic, 3);
        Assert.Equal(["evt-0", "evt-1", "evt-2"], replayed.Select(r => Encoding.UTF8.GetString(r.Message.Key)).Order(StringComparer.Ordinal));
        foreach (var record in replayed)
        {
            var key = Encoding.UTF8.GetString(record.Message.Key);
            Assert.Equal($$"""{"id":"{{key}}","type":"t"}""", Encoding.UTF8.GetString(record.Message.Value));
            Assert.Equal(["content-type", "trace-id"], record.Message.Headers.Select(h => h.Key));
        }

        // The group remembers: nothing is sent twice.
        (exit, output) = await RunAsync("kafka", "replay-dlq", $"--Kefu:Kafka:BootstrapServers={_bootstrap}");
        Assert.True(exit == 0, output);
        Assert.Contains("0 records replayed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_and_configuration_errors_exit_2_and_other_arguments_start_the_gateway()
    {
        Assert.Equal(2, (await RunAsync("kafka")).Exit);
        Assert.Equal(2, (await RunAsync("kafka", "replay-everything")).Exit);
        Assert.Equal(2, (await RunAsync("kafka", "replay-dlq", "now")).Exit);
        var (exit, output) = await RunAsync("kafka", "replay-dlq", "--Kefu:Kafka:BootstrapServers=");
        Assert.Equal(2, exit);
        Assert.Contains("BootstrapServers is required", output, StringComparison.Ordinal);
        Assert.Null(await KafkaReplayCommand.TryRunAsync(["--urls=http://127.0.0.1:0"], TextWriter.Null));
    }

    private static async Task<(int? Exit, string Output)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await KafkaReplayCommand.TryRunAsync(args, output);
        return (exit, output.ToString());
    }

    private List<ConsumeResult<byte[], byte[]>> Read(string topic, int count)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _bootstrap, GroupId = "replay-test-reader", EnableAutoCommit = false })
            .SetLogHandler((_, _) => { })
            .Build();
        consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var found = new List<ConsumeResult<byte[], byte[]>>();
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (found.Count < count && DateTime.UtcNow < stop)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } record)
            {
                found.Add(record);
            }
        }

        return found;
    }
}
