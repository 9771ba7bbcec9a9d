using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// Reads one partition (one Orleans queue) for the pulling agent of the silo Orleans' queue balancer gave it to.
/// A consume loop on a thread of its own — librdkafka's calls block, and the Orleans scheduler must never wait on them —
/// assigns the partition at the group's committed offset, decodes records into a bounded buffer that
/// <see cref="GetQueueMessagesAsync(int)"/> drains, and commits only what Orleans reported delivered.
/// </summary>
internal sealed partial class KafkaQueueAdapterReceiver : IQueueAdapterReceiver
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly KafkaStreamOptions _options;
    private readonly TopicPartition _partition;
    private readonly IKafkaRecordDecoder _decoder;
    private readonly ILogger _logger;
    private readonly Action<KafkaQueueAdapterReceiver> _stopped;
    private readonly KafkaOffsetTracker _offsets = new();
    private readonly BlockingCollection<KafkaBatchContainer> _buffer;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _assigned = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    /// <summary>A record fetched while joining a batch that belongs to the next one (consume loop only).</summary>
    private ConsumeResult<byte[], byte[]>? _carry;

    public KafkaQueueAdapterReceiver(QueueId queueId, int partition, KafkaStreamOptions options, IKafkaRecordDecoder decoder,
        ILogger logger, Action<KafkaQueueAdapterReceiver> stopped)
    {
        QueueId = queueId;
        _partition = new TopicPartition(options.Topic, partition);
        _options = options;
        _decoder = decoder;
        _logger = logger;
        _stopped = stopped;
        _buffer = new BlockingCollection<KafkaBatchContainer>(options.BufferSize);
    }

    public QueueId QueueId { get; }

    public Task Initialize(TimeSpan timeout) => Initialize(timeout, CancellationToken.None);

    public Task Initialize(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // TaskScheduler.Default: started from the pulling agent, the loop would otherwise land on the Orleans scheduler.
        _loop ??= Task.Factory.StartNew(ConsumeLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // The agent pumps whether or not this finishes in time, and the loop keeps trying to assign: waiting only
        // lets a broker that is not there show up in the agent's log.
        return _assigned.Task.WaitAsync(timeout, cancellationToken);
    }

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

    public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
    {
        var limit = maxCount > 0 ? maxCount : _options.BufferSize; // -1: the cache takes any number
        var batches = new List<IBatchContainer>(Math.Min(limit, _buffer.Count));
        while (batches.Count < limit && _buffer.TryTake(out var batch))
        {
            batches.Add(batch);
        }

        return Task.FromResult<IList<IBatchContainer>>(batches);
    }

    /// <summary>Orleans' cache purged these after every consumer had them: their offsets may now be committed.</summary>
    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => MessagesDeliveredAsync(messages, CancellationToken.None);

    /// <inheritdoc cref="MessagesDeliveredAsync(IList{IBatchContainer})"/>
    public Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            if (message is KafkaBatchContainer batch)
            {
                _offsets.Settle(batch.Offset); // a joined batch is tracked by its first offset
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Orleans gave up delivering the record at <paramref name="offset"/>: it no longer holds the commit back.</summary>
    public void GaveUp(long offset) => _offsets.Settle(offset);

    public Task Shutdown(TimeSpan timeout) => Shutdown(timeout, CancellationToken.None);

    public async Task Shutdown(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try
        {
            if (_loop is not null)
            {
                await _loop.WaitAsync(timeout, cancellationToken);
            }
        }
        catch (TimeoutException)
        {
            LogSlowShutdown(_logger, _partition.Partition.Value, _partition.Topic, timeout);
        }
        finally
        {
            _stopped(this);
        }
    }

    private void ConsumeLoop()
    {
        IConsumer<byte[], byte[]> consumer;
        try
        {
            consumer = new ConsumerBuilder<byte[], byte[]>(_options.ConsumerConfig($"kefu-streams-{_partition.Partition.Value}"))
                .SetErrorHandler((_, error) => LogKafkaError(_logger, _partition.Partition.Value, error.Code, error.Reason))
                .SetLogHandler((_, message) => LogLibrdkafka(_logger, message.Facility, message.Message))
                .Build();
        }
        catch (Exception exception)
        {
            // A setting librdkafka refuses (Kefu:Kafka:Client:*): no retry can help; Initialize reports it.
            LogStopError(_logger, exception, _partition.Partition.Value, _partition.Topic);
            _assigned.TrySetException(exception);
            return;
        }

        var stop = _stop.Token;
        var retryDelay = FirstRetryDelay;
        var sinceCommit = Stopwatch.StartNew();
        KafkaBatchContainer? pending = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (!_assigned.Task.IsCompleted)
                    {
                        Assign(consumer);
                        continue;
                    }

                    if (sinceCommit.Elapsed >= _options.CommitInterval)
                    {
                        Commit(consumer);
                        sinceCommit.Restart();
                    }

                    // A full buffer holds the loop here (Orleans is behind); it still commits while it waits.
                    if (pending is not null && !_buffer.TryAdd(pending, (int)PollTimeout.TotalMilliseconds, stop))
                    {
                        continue;
                    }

                    pending = null;
                    var record = _carry ?? consumer.Consume(PollTimeout);
                    _carry = null;
                    if (record is { Message: not null })
                    {
                        pending = Decode(consumer, record);
                    }

                    retryDelay = FirstRetryDelay;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception exception)
                {
                    // Brokers away, a commit refused, …: keep the partition, log, and try again, less often the
                    // longer it lasts.
                    LogLoopError(_logger, exception, _partition.Partition.Value, _partition.Topic, retryDelay);
                    stop.WaitHandle.WaitOne(retryDelay);
                    retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                }
            }
        }
        finally
        {
            Close(consumer);
            consumer.Dispose();
        }
    }

    private void Assign(IConsumer<byte[], byte[]> consumer)
    {
        CheckPartitionCount(consumer);
        var committed = consumer.Committed([_partition], BrokerTimeout).Single().Offset;
        var start = committed.IsSpecial ? Offset.Beginning : committed;
        if (!committed.IsSpecial)
        {
            _offsets.Committed(committed.Value);
        }

        // Assign, never Subscribe: Orleans' balancer decides which silo reads this partition; a group rebalance
        // would move partitions behind its back.
        consumer.Assign(new TopicPartitionOffset(_partition, start));
        LogAssigned(_logger, _partition.Partition.Value, _partition.Topic, QueueId.ToString(), start.ToString());
        _assigned.TrySetResult();
    }

    /// <summary>
    /// A topic whose partition count differs from the configured one is read only in part, or written to partitions
    /// that do not exist: say so loudly (once per receiver) rather than lose streams quietly.
    /// </summary>
    private void CheckPartitionCount(IConsumer<byte[], byte[]> consumer)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var topic = admin.GetMetadata(_partition.Topic, BrokerTimeout).Topics.SingleOrDefault(t => t.Topic == _partition.Topic);
        var count = topic is { Error.IsError: false } ? topic.Partitions.Count : 0;
        if (count == 0)
        {
            // Not there (yet): the loop's retry asks again; nothing is read until it exists.
            throw new KafkaException(topic?.Error ?? new Error(Confluent.Kafka.ErrorCode.UnknownTopicOrPart, $"topic {_partition.Topic} does not exist"));
        }

        if (count != _options.Partitions)
        {
            LogPartitionCount(_logger, _partition.Topic, count, _options.Partitions);
        }
    }

    private KafkaBatchContainer? Decode(IConsumer<byte[], byte[]> consumer, ConsumeResult<byte[], byte[]> record)
    {
        var offset = record.Offset.Value;
        if (DecodePayload(record) is not { } payload)
        {
            _offsets.Skipped(offset);
            return null;
        }

        // Records of the same stream that are already fetched join this batch (Consume(0) never waits); one of another
        // stream (or with a request context) starts the next batch.
        var last = offset;
        List<object>? events = null;
        try
        {
            while (_options.MaxRecordsPerBatch > 1 && (events?.Count ?? payload.Events.Count) < _options.MaxRecordsPerBatch && payload.RequestContext is null
                && consumer.Consume(TimeSpan.Zero) is { Message: not null } next)
            {
                var more = DecodePayload(next);
                if (more is null)
                {
                    last = next.Offset.Value; // unreadable: settled with this batch
                    continue;
                }

                if (more.StreamId != payload.StreamId || more.RequestContext is not null)
                {
                    _carry = next;
                    break;
                }

                events ??= [.. payload.Events];
                events.AddRange(more.Events);
                last = next.Offset.Value;
            }
        }
        catch (KafkaException exception)
        {
            // The batch so far goes on; reading resumes right after it, so nothing between is passed over.
            LogLoopError(_logger, exception, _partition.Partition.Value, _partition.Topic, TimeSpan.Zero);
            _carry = null;
            consumer.Seek(new TopicPartitionOffset(_partition, last + 1));
        }

        if (events is not null)
        {
            payload = new KafkaBatchPayload { StreamId = payload.StreamId, Events = events };
        }

        _offsets.Read(offset, last);
        return new KafkaBatchContainer(payload, offset, last);
    }

    private KafkaBatchPayload? DecodePayload(ConsumeResult<byte[], byte[]> record)
    {
        try
        {
            if (_decoder.Decode(record) is { Events: not null } payload)
            {
                return payload;
            }

            LogUnreadable(_logger, null, _partition.Partition.Value, _partition.Topic, record.Offset.Value);
        }
        catch (Exception exception)
        {
            // Not ours, corrupt, or of a type this silo does not know: skipped, so one bad record cannot stop the partition.
            LogUnreadable(_logger, exception, _partition.Partition.Value, _partition.Topic, record.Offset.Value);
        }

        return null;
    }

    private void Commit(IConsumer<byte[], byte[]> consumer)
    {
        if (_offsets.Committable() is { } next)
        {
            consumer.Commit([new TopicPartitionOffset(_partition, next)]);
            _offsets.Committed(next);
            LogCommitted(_logger, _partition.Partition.Value, _partition.Topic, next);
        }
    }

    private void Close(IConsumer<byte[], byte[]> consumer)
    {
        try
        {
            if (_assigned.Task.IsCompleted)
            {
                Commit(consumer); // what was delivered up to the stop is not read again by the next owner
            }
        }
        catch (Exception exception)
        {
            LogStopError(_logger, exception, _partition.Partition.Value, _partition.Topic);
        }

        try
        {
            consumer.Close();
        }
        catch (Exception exception)
        {
            LogStopError(_logger, exception, _partition.Partition.Value, _partition.Topic);
        }

        LogStopped(_logger, _partition.Partition.Value, _partition.Topic);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka streams: reading partition {Partition} of {Topic} as queue {Queue} from offset {Offset}")]
    private static partial void LogAssigned(ILogger logger, int partition, string topic, string queue, string offset);

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka streams: topic {Topic} has {Actual} partitions, but Kefu:Kafka:Streams:Partitions is {Configured}; they must be equal (create the topic with that many partitions, or change the setting on every silo and gateway)")]
    private static partial void LogPartitionCount(ILogger logger, string topic, int actual, int configured);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka streams: stopped reading partition {Partition} of {Topic}")]
    private static partial void LogStopped(ILogger logger, int partition, string topic);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kafka streams: committed partition {Partition} of {Topic} up to offset {Offset}")]
    private static partial void LogCommitted(ILogger logger, int partition, string topic, long offset);

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka streams: skipped the unreadable record at offset {Offset} of partition {Partition} of {Topic}")]
    private static partial void LogUnreadable(ILogger logger, Exception? exception, int partition, string topic, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka streams: reading partition {Partition} of {Topic} failed; retrying in {Delay}")]
    private static partial void LogLoopError(ILogger logger, Exception exception, int partition, string topic, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka streams: the reader of partition {Partition} of {Topic} could not start or stop cleanly")]
    private static partial void LogStopError(ILogger logger, Exception exception, int partition, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka streams: partition {Partition} of {Topic} did not stop within {Timeout}")]
    private static partial void LogSlowShutdown(ILogger logger, int partition, string topic, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka streams: consumer of partition {Partition}: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger logger, int partition, Confluent.Kafka.ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);
}
