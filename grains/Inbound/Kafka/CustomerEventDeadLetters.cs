using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Kefu.Contracts.Messages;
using Kefu.Grains.Streaming.Kafka;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Inbound.Kafka;

/// <summary>
/// The headers a dead-lettered record gets on top of its own: why it failed, where it came from, when, after how many
/// attempts. Replay removes them again (<see cref="IsDeadLetterHeader"/>), so a record failing twice carries one set.
/// </summary>
public static class DeadLetterHeaders
{
    public const string ErrorCode = "kefu-error-code";
    public const string ErrorMessage = "kefu-error-message";
    public const string OriginalTopic = "kefu-original-topic";
    public const string OriginalPartition = "kefu-original-partition";
    public const string OriginalOffset = "kefu-original-offset";
    public const string FailedAt = "kefu-failed-at";
    public const string Attempts = "kefu-attempts";

    /// <summary>Longest error message kept (an exception's message can be long; the header is for a person to read).</summary>
    public const int MaxMessageLength = 1000;

    private static readonly string[] All = [ErrorCode, ErrorMessage, OriginalTopic, OriginalPartition, OriginalOffset, FailedAt, Attempts];

    public static bool IsDeadLetterHeader(string key) => All.Contains(key, StringComparer.OrdinalIgnoreCase);

    /// <summary>The record's own headers (older dead-letter ones dropped), then the error headers.</summary>
    public static Headers For(KafkaRawRecord record, KefuError error, int attempts, DateTimeOffset failedAt)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(error);
        var headers = new Headers();
        foreach (var header in record.Headers)
        {
            if (!IsDeadLetterHeader(header.Key))
            {
                headers.Add(header.Key, header.Value);
            }
        }

        var message = error.Message.Length > MaxMessageLength ? error.Message[..MaxMessageLength] : error.Message;
        Add(headers, ErrorCode, error.Code);
        Add(headers, ErrorMessage, message);
        Add(headers, OriginalTopic, record.Topic);
        Add(headers, OriginalPartition, record.Partition.ToString(CultureInfo.InvariantCulture));
        Add(headers, OriginalOffset, record.Offset.ToString(CultureInfo.InvariantCulture));
        Add(headers, FailedAt, failedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
        Add(headers, Attempts, attempts.ToString(CultureInfo.InvariantCulture));
        return headers;
    }

    private static void Add(Headers headers, string key, string value) => headers.Add(key, Encoding.UTF8.GetBytes(value));
}

/// <summary>
/// Writes records that cannot be applied to the dead-letter topic: the original key and value untouched, the original
/// headers plus <see cref="DeadLetterHeaders"/>. One idempotent acks=all producer per silo, made on first use; a write
/// returns once the brokers have it, and only then may the record's offset be committed.
/// </summary>
public sealed partial class CustomerEventDeadLetters : IDisposable
{
    private readonly CustomerEventsOptions _options;
    private readonly Lazy<IProducer<byte[]?, byte[]>> _producer;
    private readonly ILogger _logger;

    public CustomerEventDeadLetters(IOptions<CustomerEventsOptions> options, IOptionsMonitor<KafkaStreamOptions> streams, ILogger<CustomerEventDeadLetters> logger)
    {
        _options = options.Value;
        _logger = logger;
        // The brokers and client settings of the provider that reads the topic.
        var kafka = streams.Get(CustomerEventsOptions.ProviderName);
        _producer = new Lazy<IProducer<byte[]?, byte[]>>(() => new ProducerBuilder<byte[]?, byte[]>(kafka.ProducerConfig("kefu-customer-events-dlq"))
            .SetErrorHandler((_, error) => LogKafkaError(_logger, error.Code, error.Reason))
            .SetLogHandler((_, _) => { })
            .Build());
    }

    public string Topic => _options.DeadLetterTopic;

    public async Task SendAsync(KafkaRawRecord record, KefuError error, int attempts, DateTimeOffset failedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _producer.Value.ProduceAsync(_options.DeadLetterTopic, new Message<byte[]?, byte[]>
        {
            Key = record.Key,
            Value = record.Value,
            Headers = DeadLetterHeaders.For(record, error, attempts, failedAt),
        }, cancellationToken);
        LogDeadLettered(_logger, record.Topic, record.Partition, record.Offset, error.Code, attempts, _options.DeadLetterTopic);
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka {Topic}: the record at partition {Partition} offset {Offset} failed ({Code}, {Attempts} attempts) and went to {DeadLetterTopic}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string code, int attempts, string deadLetterTopic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka dead-letter producer: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);
}
