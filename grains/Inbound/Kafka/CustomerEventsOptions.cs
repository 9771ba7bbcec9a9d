using Kefu.Contracts.Identity;
using Kefu.Grains.Streaming.Kafka;
using Microsoft.Extensions.Configuration;

namespace Kefu.Grains.Inbound.Kafka;

/// <summary>
/// Configuration section <c>Kefu:Kafka:CustomerEvents</c>: business events read from Kafka (INTEGRATION.md §3, §7) into
/// the same inbound path as <c>POST /api/v1/webhook</c>. Active on silos whenever <c>Kefu:Kafka:BootstrapServers</c> is set.
/// </summary>
public sealed class CustomerEventsOptions
{
    public const string Section = "Kefu:Kafka:CustomerEvents";

    /// <summary>The Orleans stream provider that reads the topic (one stream per partition).</summary>
    public const string ProviderName = "customer_events";

    /// <summary>The namespace of the per-partition streams; the consumer grain subscribes to it implicitly.</summary>
    public const string StreamNamespace = "kefu-customer-events";

    /// <summary>Off: the silo does not read the topic (e.g. silos that should only run conversations).</summary>
    public bool Enabled { get; set; } = true;

    public string Topic { get; set; } = "customer_events";

    /// <summary>Where a record that cannot be applied goes, with error headers; <c>kefu-gateway kafka replay-dlq</c> sends it back.</summary>
    public string DeadLetterTopic { get; set; } = "customer_events.dlq";

    /// <summary>The topic's partition count (one Orleans queue each); must equal the real count.</summary>
    public int Partitions { get; set; } = 4;

    /// <summary>The group whose committed offsets say where each partition resumes (partitions are assigned by Orleans).</summary>
    public string ConsumerGroup { get; set; } = "kefu-customer-events";

    /// <summary>
    /// The tenant every event of the topic belongs to. Kafka carries no Kefu credentials: whoever may write to the topic
    /// (Kafka ACLs) may post events for this tenant, as a key with <c>events:write</c> for every inbox could.
    /// </summary>
    public string Tenant { get; set; } = Tenancy.DefaultTenant;

    /// <summary>Attempts at applying one event before a refusal (not_found, idempotency_mismatch, …) sends it to the dead-letter topic.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The pause after the first failed attempt; it doubles after each further one (capped at 5 s).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long an event that keeps failing for a transient reason (an exception: the database or a silo away) is
    /// retried before it is dead-lettered. Until then its partition waits: later events must not overtake it.
    /// </summary>
    public TimeSpan TransientRetryFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The largest value read as an event: <c>Kefu:Inbound:MaxBodyBytes</c>, as for <c>POST /api/v1/webhook</c>.</summary>
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// Records of a partition already fetched that its consumer gets at once: different keys are applied side by side,
    /// one key's records in order. 1 = one record at a time.
    /// </summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Records a partition's reader holds ahead of delivery.</summary>
    public int BufferSize { get; set; } = 1024;

    /// <summary>How often the offsets of applied records are committed.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    public static CustomerEventsOptions From(IConfiguration configuration)
    {
        var options = new CustomerEventsOptions();
        configuration.GetSection(Section).Bind(options);
        return options;
    }

    /// <summary>The pause after failed attempt <paramref name="attempt"/> (1-based).</summary>
    public TimeSpan DelayAfter(int attempt) =>
        TimeSpan.FromTicks(Math.Min(RetryDelay.Ticks * (1L << Math.Clamp(attempt - 1, 0, 20)), TimeSpan.FromSeconds(5).Ticks));

    /// <summary>Throws on settings the reader cannot run with, naming the key.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Topic) || string.IsNullOrWhiteSpace(DeadLetterTopic) || string.IsNullOrWhiteSpace(ConsumerGroup))
        {
            throw new InvalidOperationException($"{Section}: {nameof(Topic)}, {nameof(DeadLetterTopic)} and {nameof(ConsumerGroup)} must not be empty.");
        }

        if (string.Equals(Topic, DeadLetterTopic, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Section}: {nameof(DeadLetterTopic)} must differ from {nameof(Topic)}.");
        }

        if (!Tenancy.IsValidName(Tenant))
        {
            throw new InvalidOperationException($"{Section}:{nameof(Tenant)} must be a tenant name.");
        }

        if (MaxAttempts < 1 || Partitions < 1 || BatchSize < 1 || RetryDelay < TimeSpan.Zero || TransientRetryFor < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{Section}: {nameof(MaxAttempts)}, {nameof(Partitions)} and {nameof(BatchSize)} must be at least 1, delays not negative.");
        }
    }

    /// <summary>The stream provider's options: the shared Kafka settings with this topic, read raw.</summary>
    public void ApplyTo(KafkaStreamOptions streams, IConfiguration configuration)
    {
        streams.BootstrapServers = KafkaStreamOptions.ConfiguredBootstrap(configuration);
        configuration.GetSection($"{KafkaStreamOptions.KafkaSection}:{nameof(KafkaStreamOptions.Client)}").Bind(streams.Client);
        streams.Topic = Topic;
        streams.Partitions = Partitions;
        streams.ConsumerGroup = ConsumerGroup;
        streams.BufferSize = BufferSize;
        streams.MaxRecordsPerBatch = BatchSize;
        streams.CommitInterval = CommitInterval;
        streams.Decoder = new RawRecordDecoder(StreamNamespace);
    }
}
