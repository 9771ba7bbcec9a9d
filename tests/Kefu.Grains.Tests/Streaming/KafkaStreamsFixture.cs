using System.Globalization;
using Confluent.Kafka;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Kefu.Grains.Inbound;
using Kefu.Grains.Inbound.Kafka;
using Kefu.Grains.Streaming;
using Kefu.Grains.Streaming.Kafka;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>
/// librdkafka's mock cluster in this process (alive as long as the admin client that made it) and one silo whose
/// <c>kefu</c> stream provider runs over it. Topics appear on first use with 4 partitions.
/// </summary>
public sealed class KafkaStreamsFixture : IAsyncLifetime
{
    public const string Topic = "kefu-test-streams";
    public const int Partitions = 4;
    public const int CustomerEventsMaxAttempts = 3;

    private IAdminClient? _admin;
    private InProcessTestCluster? _cluster;

    public string Bootstrap { get; private set; } = "";

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    /// <summary>The silo's configuration (the replayer of the dead-letter topic reads it as the gateway command does).</summary>
    public IConfiguration Configuration { get; private set; } = new ConfigurationBuilder().Build();

    /// <summary>Sender ids whose inbound record lookups fail (as a database that is away does), and how many more times.</summary>
    public InboundFailureSwitch InboundFailures { get; } = new();

    public async Task InitializeAsync()
    {
        var config = new AdminClientConfig();
        config.Set("test.mock.num.brokers", "3");
        _admin = new AdminClientBuilder(config).Build();
        Bootstrap = string.Join(',', _admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => $"{b.Host}:{b.Port}"));
        // The silo's topic is not created here: its readers start before anything exists, as on a fresh broker.

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{KafkaStreamOptions.KafkaSection}:{nameof(KafkaStreamOptions.BootstrapServers)}"] = Bootstrap,
            [$"{KafkaStreamOptions.Section}:{nameof(KafkaStreamOptions.Topic)}"] = Topic,
            [$"{KafkaStreamOptions.Section}:{nameof(KafkaStreamOptions.Partitions)}"] = Partitions.ToString(CultureInfo.InvariantCulture),
            [$"{KafkaStreamOptions.Section}:{nameof(KafkaStreamOptions.CommitInterval)}"] = "00:00:00.200",
            // customer_events (issue #16 item 2): few, quick attempts, so refusals reach the dead-letter topic fast.
            [$"{CustomerEventsOptions.Section}:{nameof(CustomerEventsOptions.MaxAttempts)}"] = CustomerEventsMaxAttempts.ToString(CultureInfo.InvariantCulture),
            [$"{CustomerEventsOptions.Section}:{nameof(CustomerEventsOptions.RetryDelay)}"] = "00:00:00.020",
            [$"{CustomerEventsOptions.Section}:{nameof(CustomerEventsOptions.CommitInterval)}"] = "00:00:00.200",
        }).Build();
        Configuration = configuration;

        // The silo as production configures it, and a client with the same provider, as a gateway in cluster mode has.
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        var failures = InboundFailures;
        builder.ConfigureSilo((_, silo) =>
        {
            // Registered before AddKefuGrains (which only adds a store when none is): the inbound path with a switch to fail it.
            silo.Services.AddSingleton<IInboundRecordStore>(sp =>
                new FlakyInboundRecordStore(new InMemoryInboundRecordStore(sp.GetRequiredService<IEventLog>()), failures));
            silo.AddKefuGrains(configuration);
        });
        builder.ConfigureClient(client => client.AddKefuStreams(configuration));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    /// <summary>Makes the mock create <paramref name="topic"/> (a producer's metadata request does) and waits until it has its partitions.</summary>
    public async Task CreateTopicAsync(string topic)
    {
        using var producer = NewProducer();
        await Scenario.EventuallyAsync(
            () => Task.FromResult(TryPartitionCount(producer, topic)),
            count => count == Partitions,
            $"topic {topic} with {Partitions} partitions");
    }

    /// <summary>The offsets the silos' group has committed, summed over the partitions of <see cref="Topic"/>.</summary>
    public long CommittedOffsets()
    {
        // No Subscribe: reading a group's offsets does not join it, so the silo's receivers are undisturbed.
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = Bootstrap, GroupId = new KafkaStreamOptions().ConsumerGroup })
            .SetLogHandler((_, _) => { })
            .Build();
        var partitions = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p));
        return consumer.Committed(partitions, TimeSpan.FromSeconds(5)).Sum(o => o.Offset.IsSpecial ? 0 : o.Offset.Value);
    }

    public IProducer<byte[], byte[]> NewProducer() =>
        new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = Bootstrap, Acks = Acks.All, EnableIdempotence = true })
            .SetLogHandler((_, _) => { })
            .Build();

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        _admin?.Dispose();
    }

    private int TryPartitionCount(IProducer<byte[], byte[]> producer, string topic)
    {
        // A metadata request naming the topic makes the mock create it, without a record on it.
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        try
        {
            var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(5));
            return metadata.Topics.SingleOrDefault(t => t.Topic == topic && t.Error.Code == Confluent.Kafka.ErrorCode.NoError)?.Partitions.Count ?? 0;
        }
        catch (KafkaException)
        {
            return 0;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class KafkaStreamsCollection : ICollectionFixture<KafkaStreamsFixture>
{
    public const string Name = "Kefu Kafka streams cluster";
}
