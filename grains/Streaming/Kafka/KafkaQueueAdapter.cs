using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orleans.Serialization;
using Orleans.Streams;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// Writes a stream's events to the partition of the stream's queue (so one stream's events stay in one partition, in
/// order) and makes a receiver per queue. One idempotent acks=all producer per silo or client, made on first write.
/// </summary>
internal sealed partial class KafkaQueueAdapter : IQueueAdapter, IDisposable
{
    private readonly KafkaStreamOptions _options;
    private readonly HashRingBasedPartitionedStreamQueueMapper _mapper;
    private readonly Serializer<KafkaBatchPayload> _serializer;
    private readonly IKafkaRecordDecoder _decoder;
    private readonly KafkaReceivers _receivers;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly Lazy<IProducer<byte[], byte[]>> _producer;

    public KafkaQueueAdapter(string name, KafkaStreamOptions options, HashRingBasedPartitionedStreamQueueMapper mapper,
        Serializer<KafkaBatchPayload> serializer, KafkaReceivers receivers, ILoggerFactory loggerFactory)
    {
        // An external topic (a decoder of its own) is read only: Kefu never writes Orleans batches into another system's topic.
        _decoder = options.Decoder ?? new OrleansBatchDecoder(serializer);
        Name = name;
        _options = options;
        _mapper = mapper;
        _serializer = serializer;
        _receivers = receivers;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<KafkaQueueAdapter>();
        _producer = new Lazy<IProducer<byte[], byte[]>>(() => new ProducerBuilder<byte[], byte[]>(options.ProducerConfig($"kefu-streams-{name}"))
            .SetErrorHandler((_, error) => LogKafkaError(_logger, error.Code, error.Reason))
            .SetLogHandler((_, message) => LogLibrdkafka(_logger, message.Facility, message.Message))
            .Build());
    }

    public string Name { get; }

    /// <summary>Consumers cannot ask for older events than the cache holds: the partition is read forward only.</summary>
    public bool IsRewindable => false;

    public StreamProviderDirection Direction => _options.Decoder is null ? StreamProviderDirection.ReadWrite : StreamProviderDirection.ReadOnly;

    public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (_options.Decoder is not null)
        {
            throw new NotSupportedException($"Stream provider {Name} reads the external topic {_options.Topic}; it cannot write to it.");
        }

        if (token is not null)
        {
            throw new ArgumentException("Kafka streams take their sequence tokens from the partition offset; a producer cannot choose one.", nameof(token));
        }

        var payload = new KafkaBatchPayload
        {
            StreamId = streamId,
            Events = events.Cast<object>().ToList(),
            RequestContext = requestContext is { Count: > 0 } ? requestContext : null,
        };
        var message = new Message<byte[], byte[]>
        {
            // The partition is chosen below; the key only lets a reader of the topic (kcat) see which stream a record is.
            Key = Encoding.UTF8.GetBytes(streamId.ToString()),
            Value = _serializer.SerializeToArray(payload),
        };

        // Returns once the brokers acknowledged the write (acks=all): an event a producer saw accepted is durable.
        await _producer.Value.ProduceAsync(new TopicPartition(_options.Topic, PartitionOf(_mapper.GetQueueForStream(streamId))), message);
    }

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId)
    {
        var receiver = new KafkaQueueAdapterReceiver(queueId, PartitionOf(queueId), _options, _decoder,
            _loggerFactory.CreateLogger<KafkaQueueAdapterReceiver>(), _receivers.Remove);
        _receivers.Add(receiver);
        return receiver;
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            // Every write was awaited, so nothing is waiting to be sent: this only closes the connections.
            _producer.Value.Dispose();
        }
    }

    private int PartitionOf(QueueId queueId) => int.Parse(_mapper.QueueToPartition(queueId), CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka streams: producer: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);
}
