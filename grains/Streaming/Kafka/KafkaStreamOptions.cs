using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// One Kafka-backed Orleans stream provider: the brokers from <c>Kefu:Kafka</c>, the rest from <c>Kefu:Kafka:Streams</c>
/// (the other Kafka uses of Kefu, customer_events in and conversation_events out, get sections of their own).
/// </summary>
public sealed class KafkaStreamOptions
{
    public const string KafkaSection = "Kefu:Kafka";
    public const string Section = "Kefu:Kafka:Streams";

    /// <summary><c>host:port,…</c>; Kafka is off when unset.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>The one topic that carries every stream of the provider (an internal topic, Orleans-serialized).</summary>
    public string Topic { get; set; } = "kefu_streams";

    /// <summary>
    /// The topic's partition count: one Orleans queue per partition. It must equal the topic's real count (a smaller
    /// value leaves partitions unread, a larger one produces to partitions that do not exist), the same on every silo.
    /// The default is what scripts/kafka.sh's mock cluster gives a topic it creates on first use.
    /// </summary>
    public int Partitions { get; set; } = 4;

    /// <summary>The group whose committed offsets say where each partition's reading resumes (no group membership is used).</summary>
    public string ConsumerGroup { get; set; } = "kefu-streams";

    /// <summary>Decoded batches one receiver holds ahead of Orleans; when full its consume loop waits.</summary>
    public int BufferSize { get; set; } = 1024;

    /// <summary>
    /// Records of one stream already fetched that a receiver joins into one batch (one delivery; a batch observer gets
    /// them in one call and may work on them together). 1: every record is a batch of its own, as the <c>kefu</c> provider
    /// has it. The batch is settled, and its offsets committed, only once delivered as a whole.
    /// </summary>
    public int MaxRecordsPerBatch { get; set; } = 1;

    /// <summary>How often a receiver commits the offset of what Orleans has delivered (and once more when it stops).</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How a record becomes stream events. Null: the topic is the provider's own, written by Kefu (Orleans-serialized
    /// batches, read and write). Set: a topic other systems write (e.g. <c>customer_events</c>); the provider only reads it.
    /// Not configuration: the code that registers the provider sets it.
    /// </summary>
    public IKafkaRecordDecoder? Decoder { get; set; }

    /// <summary>Extra librdkafka settings for every Kafka client (<c>security.protocol</c>, <c>sasl.*</c>, …), from <c>Kefu:Kafka:Client</c>.</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>The brokers Kefu is configured with, or null when Kafka is off.</summary>
    public static string? ConfiguredBootstrap(IConfiguration configuration) =>
        configuration[$"{KafkaSection}:{nameof(BootstrapServers)}"] is { Length: > 0 } servers ? servers : null;

    /// <summary>Binds the shared <c>Kefu:Kafka</c> keys, then the stream ones.</summary>
    public void Bind(IConfiguration configuration)
    {
        BootstrapServers = ConfiguredBootstrap(configuration);
        configuration.GetSection($"{KafkaSection}:{nameof(Client)}").Bind(Client);
        configuration.GetSection(Section).Bind(this);
    }

    /// <summary>Throws on settings no provider can run with, naming the key.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            throw new InvalidOperationException($"{KafkaSection}:{nameof(BootstrapServers)} is required for Kafka streams.");
        }

        if (string.IsNullOrWhiteSpace(Topic) || string.IsNullOrWhiteSpace(ConsumerGroup))
        {
            throw new InvalidOperationException($"{Section}:{nameof(Topic)} and {nameof(ConsumerGroup)} must not be empty.");
        }

        if (Partitions < 1 || BufferSize < 1 || MaxRecordsPerBatch < 1 || CommitInterval <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{Section}: {nameof(Partitions)}, {nameof(BufferSize)} and {nameof(MaxRecordsPerBatch)} must be at least 1, {nameof(CommitInterval)} positive.");
        }
    }

    /// <summary>
    /// acks=all with idempotence: a write is acknowledged only once every in-sync replica has it, and a retried send
    /// neither duplicates nor reorders a stream's events.
    /// </summary>
    internal ProducerConfig ProducerConfig(string clientId)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(Client))
        {
            BootstrapServers = BootstrapServers,
            ClientId = clientId,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 2,
        };
        return config;
    }

    /// <summary>
    /// Offsets are committed by the receiver alone, after delivery: no auto commit, no offset store. The group is
    /// only where offsets are kept; partitions are assigned, never subscribed, so Kafka's rebalancing never runs.
    /// </summary>
    internal ConsumerConfig ConsumerConfig(string clientId) => new(new Dictionary<string, string>(Client))
    {
        BootstrapServers = BootstrapServers,
        ClientId = clientId,
        GroupId = ConsumerGroup,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        // A group with no committed offset yet reads the partition from its start: nothing produced before the
        // first silo came up is skipped.
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnablePartitionEof = false,
        // As the producer would on its first write: a reader that starts before anything was written does not wait
        // for a topic nobody creates (on a broker that allows it; a wrong partition count is then logged as an error).
        AllowAutoCreateTopics = true,
    };
}
