using System.Text;
using Confluent.Kafka;
using Kefu.Contracts.Events;
using Kefu.Grains.ConversationEvents;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.ConversationEvents;

/// <summary>
/// librdkafka's mock cluster in this process (3 brokers, alive as long as the admin client that made it) and one silo
/// configured as production is with <c>Kefu:Kafka:BootstrapServers</c> set: Kafka streams and the relay to
/// <see cref="Topic"/>. Short delivery timeouts and retry delays, so an outage test is quick; a 64 KiB record limit, so
/// a refused record is easy to make.
/// </summary>
public sealed class ConversationEventsFixture : IAsyncLifetime
{
    public const string Topic = "conversation_events";
    public const int Partitions = 4;
    public const string ConfiguredTenant = "kout-configured";
    public const int MaxRecordBytes = 65536;

    private IAdminClient? _admin;
    private InProcessTestCluster? _cluster;

    public string Bootstrap { get; private set; } = "";

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public IEventLog EventLog => Cluster.Silos[0].ServiceProvider.GetRequiredService<IEventLog>();

    public MockBrokers Brokers { get; private set; } = null!;

    public int[] BrokerIds { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var config = new AdminClientConfig();
        config.Set("test.mock.num.brokers", "3");
        _admin = new AdminClientBuilder(config).Build();
        var metadata = _admin.GetMetadata(TimeSpan.FromSeconds(10));
        Bootstrap = string.Join(',', metadata.Brokers.Select(b => $"{b.Host}:{b.Port}"));
        BrokerIds = [.. metadata.Brokers.Select(b => b.BrokerId)];
        Brokers = new MockBrokers(_admin);
        await CreateTopicAsync(Topic);

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kefu:Kafka:BootstrapServers"] = Bootstrap,
            ["Kefu:Kafka:Client:message.max.bytes"] = MaxRecordBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Kefu:Kafka:ConversationEvents:Tenants:0"] = ConfiguredTenant,
            ["Kefu:Kafka:ConversationEvents:DeliveryTimeout"] = "00:00:02",
            ["Kefu:Kafka:ConversationEvents:RetryDelay"] = "00:00:00.200",
            ["Kefu:Kafka:ConversationEvents:MaxRetryDelay"] = "00:00:01",
            ["Kefu:Kafka:ConversationEvents:PollInterval"] = "00:00:00.500",
        }).Build();

        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddKefuGrains(configuration));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        _admin?.Dispose();
    }

    /// <summary>Appends events of <paramref name="tenant"/> straight to the silo's event log (as a conversation's commit would).</summary>
    public async Task<List<DomainEvent>> AppendAsync(string tenant, IEnumerable<(string Conversation, long Seq)> events, int dataBytes = 0)
    {
        var now = DateTimeOffset.UtcNow;
        var padding = new string('x', dataBytes);
        var list = events.Select(e => new DomainEvent(Ulid.NewUlid(), tenant, e.Conversation, e.Seq, now, Causation.Of("test"),
            new CustomEvent("custom.test", $"{{\"seq\":{e.Seq},\"pad\":\"{padding}\"}}"))).ToList();
        await EventLog.AppendAsync(list);
        return list;
    }

    /// <summary>Every record of the topic now there whose <c>ce_source</c> is the tenant's, partition by partition in offset order.</summary>
    public List<TopicRecord> Read(string tenant)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).SetLogHandler((_, _) => { }).Build();
        var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList();
        var ends = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(5)).High.Value);
        consumer.Assign(partitions.Where(p => ends[p.Partition.Value] > 0).Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var open = ends.Where(e => e.Value > 0).Select(e => e.Key).ToHashSet();
        var records = new List<TopicRecord>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (open.Count > 0 && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (!result.IsPartitionEOF)
            {
                var record = TopicRecord.Of(result);
                if (record.Header("ce_source") == "/kefu/" + tenant)
                {
                    records.Add(record);
                }
            }

            if (result.Offset.Value + (result.IsPartitionEOF ? 0 : 1) >= ends[result.Partition.Value])
            {
                open.Remove(result.Partition.Value);
            }
        }

        Assert.True(open.Count == 0, "the topic could not be read to its end");
        return records;
    }

    /// <summary>Waits until every id in <paramref name="ids"/> is on the topic (at least once), then returns the tenant's records.</summary>
    public async Task<List<TopicRecord>> WaitForAsync(string tenant, IReadOnlyCollection<string> ids, TimeSpan? timeout = null) =>
        await Scenario.EventuallyAsync(
            () => Task.FromResult(Read(tenant)),
            records => ids.All(records.Select(r => r.Id).ToHashSet().Contains),
            $"{ids.Count} events of {tenant} on {Topic}",
            timeout ?? TimeSpan.FromSeconds(30));

    private async Task CreateTopicAsync(string topic)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Bootstrap }).SetLogHandler((_, _) => { }).Build();
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        await Scenario.EventuallyAsync(
            () =>
            {
                try
                {
                    // A metadata request naming the topic makes the mock create it (with 4 partitions).
                    var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5));
                    return Task.FromResult(metadata.Topics.SingleOrDefault(t => t.Topic == topic && t.Error.Code == Confluent.Kafka.ErrorCode.NoError)?.Partitions.Count ?? 0);
                }
                catch (KafkaException)
                {
                    return Task.FromResult(0);
                }
            },
            count => count == Partitions,
            $"topic {topic}");
    }
}

/// <summary>One record as a consumer sees it.</summary>
public sealed record TopicRecord(int Partition, long Offset, string? Key, IReadOnlyDictionary<string, string> Headers, byte[] Value)
{
    public string Id => Header("ce_id") ?? "";

    public string ValueText => Encoding.UTF8.GetString(Value);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public static TopicRecord Of(ConsumeResult<byte[], byte[]> result) => new(
        result.Partition.Value,
        result.Offset.Value,
        result.Message.Key is null ? null : Encoding.UTF8.GetString(result.Message.Key),
        result.Message.Headers.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes()), StringComparer.Ordinal),
        result.Message.Value);
}

[CollectionDefinition(Name)]
public sealed class ConversationEventsCollection : ICollectionFixture<ConversationEventsFixture>
{
    public const string Name = "Kefu Kafka conversation_events";
}
