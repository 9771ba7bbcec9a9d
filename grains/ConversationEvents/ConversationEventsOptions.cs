using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Kefu.Grains.ConversationEvents;

/// <summary>
/// The relay of events to Kafka (<c>Kefu:Kafka:ConversationEvents</c>; the brokers and client settings are the shared
/// <c>Kefu:Kafka:BootstrapServers</c> and <c>Kefu:Kafka:Client:*</c>). Off unless the brokers are set.
/// </summary>
public sealed class ConversationEventsOptions
{
    public const string KafkaSection = "Kefu:Kafka";
    public const string Section = "Kefu:Kafka:ConversationEvents";
    public const string Json = "json";
    public const string Protobuf = "protobuf";

    /// <summary><c>host:port,…</c> (from <c>Kefu:Kafka:BootstrapServers</c>); the relay is off when unset.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Extra librdkafka settings (<c>Kefu:Kafka:Client:*</c>: security, SASL, …), applied before Kefu's own.</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>Set false to keep Kafka for streams only, without the relay.</summary>
    public bool Enabled { get; set; } = true;

    public string Topic { get; set; } = "conversation_events";

    /// <summary>The tenants whose events are relayed (each silo starts their relays at start).</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>
    /// The event types relayed. Empty: every type the events API returns by default (all but explicit-only types such
    /// as <c>note.created</c>). Set: exactly these types (list <c>note.created</c> here to relay internal notes).
    /// </summary>
    public List<string> Types { get; set; } = [];

    /// <summary><c>json</c> (the events API's envelope) or <c>protobuf</c> (<c>kefu.v1.EventEnvelope</c>).</summary>
    public string Format { get; set; } = Json;

    /// <summary>Where a relay's first start places its cursor: <c>beginning</c> (everything the log still holds) or <c>latest</c>.</summary>
    public string StartFrom { get; set; } = "beginning";

    /// <summary>Events read and produced per step (the cursor is saved after each step's delivery reports).</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How often a relay looks for events committed on other silos (its own silo's wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first wait after a failed step; doubled after each further failure up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the producer keeps trying one record before its delivery report says it failed (then the relay retries it).</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsProtobuf => string.Equals(Format, Protobuf, StringComparison.OrdinalIgnoreCase);

    public bool StartsAtLatest => string.Equals(StartFrom, "latest", StringComparison.OrdinalIgnoreCase);

    /// <summary>The tenants to relay: <see cref="Tenants"/>, or <c>default</c> when none are listed.</summary>
    public IReadOnlyList<string> TenantsOrDefault => Tenants is { Count: > 0 } ? [.. Tenants.Where(t => !string.IsNullOrWhiteSpace(t)).Distinct(StringComparer.Ordinal)] : ["default"];

    /// <summary>The types filter for the event log: null = the events API's default.</summary>
    public string[]? TypesFilter => Types is { Count: > 0 } ? [.. Types.Distinct(StringComparer.Ordinal)] : null;

    public static bool IsConfigured(IConfiguration configuration) =>
        configuration[$"{KafkaSection}:BootstrapServers"] is { Length: > 0 }
        && !string.Equals(configuration[$"{Section}:{nameof(Enabled)}"], "false", StringComparison.OrdinalIgnoreCase);

    /// <summary>Binds the shared <c>Kefu:Kafka</c> keys, then the relay's own.</summary>
    public void Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        BootstrapServers = configuration[$"{KafkaSection}:{nameof(BootstrapServers)}"];
        configuration.GetSection($"{KafkaSection}:{nameof(Client)}").Bind(Client);
        configuration.GetSection(Section).Bind(this);
    }

    /// <summary>The first problem with the settings, naming the key; null when they are usable.</summary>
    public string? Problem()
    {
        if (string.IsNullOrWhiteSpace(Topic))
        {
            return $"{Section}:{nameof(Topic)} must not be empty.";
        }

        if (!string.Equals(Format, Json, StringComparison.OrdinalIgnoreCase) && !IsProtobuf)
        {
            return $"{Section}:{nameof(Format)} must be json or protobuf.";
        }

        if (!StartsAtLatest && !string.Equals(StartFrom, "beginning", StringComparison.OrdinalIgnoreCase))
        {
            return $"{Section}:{nameof(StartFrom)} must be beginning or latest.";
        }

        if (BatchSize < 1 || PollInterval <= TimeSpan.Zero || RetryDelay <= TimeSpan.Zero || MaxRetryDelay < RetryDelay || DeliveryTimeout < TimeSpan.FromSeconds(1))
        {
            return $"{Section}: BatchSize must be at least 1, PollInterval and RetryDelay positive, MaxRetryDelay at least RetryDelay, DeliveryTimeout at least 1 s.";
        }

        return null;
    }

    /// <summary>
    /// Idempotent with <c>acks=all</c>: a record counts as delivered only once every in-sync replica has it, and the
    /// producer's own retries neither duplicate nor reorder records of a partition. Settings of <c>Kefu:Kafka:Client</c>
    /// come first; these cannot be overridden (they are what the relay's guarantees rest on).
    /// </summary>
    internal ProducerConfig ProducerConfig(string clientId) => new(new Dictionary<string, string>(Client))
    {
        BootstrapServers = BootstrapServers,
        ClientId = clientId,
        Acks = Acks.All,
        EnableIdempotence = true,
        MaxInFlight = 5,
        LingerMs = 5,
        MessageTimeoutMs = (int)Math.Min(int.MaxValue, DeliveryTimeout.TotalMilliseconds),
        // The partition of a key is the murmur2 hash Java clients use, so any client's producer agrees on it.
        Partitioner = Partitioner.Murmur2Random,
    };
}
