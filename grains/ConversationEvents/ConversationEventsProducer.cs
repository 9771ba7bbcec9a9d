using Confluent.Kafka;
using ErrorCode = Confluent.Kafka.ErrorCode;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.ConversationEvents;

/// <summary>What happened to one record of a batch.</summary>
public enum DeliveryOutcome
{
    /// <summary>Every in-sync replica has it.</summary>
    Delivered,

    /// <summary>Not delivered now (broker down, timed out, not produced after an earlier failure): the relay tries again.</summary>
    Retry,

    /// <summary>Kafka will never take this record (too large, invalid): retrying cannot help.</summary>
    Refused,
}

/// <summary>One record's outcome, and Kafka's reason when it was not delivered.</summary>
public readonly record struct DeliveryReport(DeliveryOutcome Outcome, string? Reason = null);

/// <summary>Produces a batch of records in order and answers once every record's delivery report is in.</summary>
public interface IConversationEventsProducer
{
    Task<DeliveryReport[]> ProduceAsync(IReadOnlyList<Message<byte[], byte[]>> records, CancellationToken cancellationToken = default);
}

/// <summary>
/// The silo's one producer to the <c>conversation_events</c> topic, shared by the relays of every tenant (one
/// connection set per silo, batching across tenants). Records go to librdkafka in the order given, and the idempotent
/// producer keeps that order per partition through its retries. A fatal producer error (the idempotence state is lost)
/// makes the next batch use a new producer. Flushed and disposed with the silo's services.
/// </summary>
public sealed partial class ConversationEventsProducer(IOptions<ConversationEventsOptions> options, ILogger<ConversationEventsProducer> logger)
    : IConversationEventsProducer, IDisposable
{
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);

    private readonly ConversationEventsOptions _options = options.Value;
    private readonly Lock _lock = new();
    private IProducer<byte[], byte[]>? _producer;
    private bool _disposed;

    public Task<DeliveryReport[]> ProduceAsync(IReadOnlyList<Message<byte[], byte[]>> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var reports = new DeliveryReport[records.Count];
        if (records.Count == 0)
        {
            return Task.FromResult(reports);
        }

        var producer = Producer();
        var pending = records.Count;
        var done = new TaskCompletionSource<DeliveryReport[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Complete(int index, DeliveryReport report)
        {
            reports[index] = report;
            if (Interlocked.Decrement(ref pending) == 0)
            {
                done.TrySetResult(reports);
            }
        }

        var stopped = false;
        for (var i = 0; i < records.Count; i++)
        {
            if (stopped)
            {
                // After a record that could not even be queued, later ones would overtake it: they wait for the retry.
                Complete(i, new DeliveryReport(DeliveryOutcome.Retry, "not produced after an earlier failure"));
                continue;
            }

            var index = i;
            try
            {
                producer.Produce(_options.Topic, records[i], report => Complete(index, Report(report.Error)));
            }
            catch (ProduceException<byte[], byte[]> ex)
            {
                var report = Report(ex.Error);
                stopped = report.Outcome == DeliveryOutcome.Retry;
                Complete(index, report);
            }
            catch (Exception ex) when (ex is KafkaException or ObjectDisposedException or InvalidOperationException)
            {
                stopped = true;
                Complete(index, new DeliveryReport(DeliveryOutcome.Retry, ex.Message));
            }
        }

        return done.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        IProducer<byte[], byte[]>? producer;
        lock (_lock)
        {
            _disposed = true;
            producer = _producer;
            _producer = null;
        }

        if (producer is not null)
        {
            // Relays wait for their delivery reports, so little is in flight; what is gets its chance before the silo goes.
            producer.Flush(FlushTimeout);
            producer.Dispose();
        }
    }

    /// <summary>Kafka's answer for one record: delivered, never deliverable, or worth another try.</summary>
    internal static DeliveryReport Report(Error error) => error.Code switch
    {
        ErrorCode.NoError => new DeliveryReport(DeliveryOutcome.Delivered),
        ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge or ErrorCode.InvalidRecord or ErrorCode.InvalidMsgSize
            => new DeliveryReport(DeliveryOutcome.Refused, $"{error.Code}: {error.Reason}"),
        _ => new DeliveryReport(DeliveryOutcome.Retry, $"{error.Code}: {error.Reason}"),
    };

    private IProducer<byte[], byte[]> Producer()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _producer ??= new ProducerBuilder<byte[], byte[]>(_options.ProducerConfig($"kefu-conversation-events-{Environment.MachineName}"))
                .SetErrorHandler(OnError)
                .SetLogHandler((_, message) => LogLibrdkafka(logger, message.Facility, message.Message))
                .Build();
        }
    }

    private void OnError(IProducer<byte[], byte[]> producer, Error error)
    {
        LogKafkaError(logger, error.Code, error.Reason, error.IsFatal);
        if (!error.IsFatal)
        {
            return; // librdkafka reconnects and retries by itself
        }

        lock (_lock)
        {
            if (!ReferenceEquals(_producer, producer))
            {
                return;
            }

            _producer = null;
        }

        // Not from librdkafka's own callback thread: disposing waits for that thread.
        _ = Task.Run(() =>
        {
            try
            {
                producer.Dispose();
            }
            catch (Exception ex) when (ex is KafkaException or ObjectDisposedException)
            {
                LogDisposeFailed(logger, ex);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka conversation_events: producer error {Code} {Reason} (fatal: {Fatal})")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason, bool fatal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka conversation_events: a failed producer could not be disposed")]
    private static partial void LogDisposeFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);
}
