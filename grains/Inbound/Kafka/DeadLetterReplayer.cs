using Confluent.Kafka;
using Kefu.Grains.Streaming.Kafka;
using Microsoft.Extensions.Configuration;

namespace Kefu.Grains.Inbound.Kafka;

/// <summary>
/// Sends the dead-letter topic's records back to <c>customer_events</c> once the cause is fixed: each with its original
/// key, value and headers (the dead-letter headers removed), so it is the same event — the same sender id, deduplicated
/// as before. Reads what the topic held when it started (records dead-lettered again meanwhile wait for the next run),
/// as the group <see cref="ReplayGroupSuffix"/>, committing each partition's position only after the brokers
/// acknowledged the records it replayed: a replay that stops half-way resumes where it stopped, and nothing is sent
/// twice except what was in flight (which the sender id absorbs).
/// </summary>
public sealed class DeadLetterReplayer(KafkaStreamOptions kafka, CustomerEventsOptions options)
{
    public const string ReplayGroupSuffix = "-dlq-replay";

    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);

    public static DeadLetterReplayer From(IConfiguration configuration)
    {
        var options = CustomerEventsOptions.From(configuration);
        var kafka = new KafkaStreamOptions();
        options.ApplyTo(kafka, configuration);
        if (string.IsNullOrWhiteSpace(kafka.BootstrapServers))
        {
            throw new InvalidOperationException($"{KafkaStreamOptions.KafkaSection}:{nameof(KafkaStreamOptions.BootstrapServers)} is required to replay the dead-letter topic.");
        }

        return new DeadLetterReplayer(kafka, options);
    }

    public string DeadLetterTopic => options.DeadLetterTopic;

    public string Topic => options.Topic;

    /// <summary>Replays every record the dead-letter topic holds now; <paramref name="replayed"/> hears of each. Returns how many.</summary>
    public async Task<int> ReplayAsync(Action<ConsumeResult<byte[]?, byte[]>>? replayed = null, CancellationToken cancellationToken = default)
    {
        var consumerConfig = kafka.ConsumerConfig("kefu-dlq-replay");
        consumerConfig.GroupId = options.ConsumerGroup + ReplayGroupSuffix;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(consumerConfig).SetLogHandler((_, _) => { }).Build();
        using var producer = new ProducerBuilder<byte[]?, byte[]>(kafka.ProducerConfig("kefu-dlq-replay")).SetLogHandler((_, _) => { }).Build();

        // The end of each partition now: what arrives later (a replayed record failing again) is not read in this run.
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var metadata = admin.GetMetadata(options.DeadLetterTopic, BrokerTimeout).Topics.SingleOrDefault(t => t.Topic == options.DeadLetterTopic);
        if (metadata is null || metadata.Error.IsError)
        {
            return 0;
        }

        var partitions = metadata.Partitions.Select(p => new TopicPartition(options.DeadLetterTopic, p.PartitionId)).ToList();
        var committed = consumer.Committed(partitions, BrokerTimeout).ToDictionary(c => c.Partition, c => c.Offset);
        var ends = new Dictionary<Partition, long>();
        var starts = new List<TopicPartitionOffset>();
        foreach (var partition in partitions)
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, BrokerTimeout);
            var start = committed.TryGetValue(partition.Partition, out var c) && !c.IsSpecial ? c.Value : watermarks.Low.Value;
            if (start < watermarks.High.Value)
            {
                ends[partition.Partition] = watermarks.High.Value;
                starts.Add(new TopicPartitionOffset(partition, start));
            }
        }

        if (starts.Count == 0)
        {
            return 0;
        }

        consumer.Assign(starts);
        var count = 0;
        var idle = TimeSpan.Zero;
        while (ends.Count > 0 && idle < BrokerTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (record?.Message is null)
            {
                idle += TimeSpan.FromMilliseconds(500);
                continue;
            }

            idle = TimeSpan.Zero;
            var partition = record.Partition;
            if (!ends.TryGetValue(partition, out var end) || record.Offset.Value >= end)
            {
                ends.Remove(partition);
                consumer.Pause([record.TopicPartition]);
                continue;
            }

            var headers = new Headers();
            foreach (var header in record.Message.Headers ?? [])
            {
                if (!DeadLetterHeaders.IsDeadLetterHeader(header.Key))
                {
                    headers.Add(header.Key, header.GetValueBytes());
                }
            }

            // Awaited one by one: a partition's records go back in the order they were dead-lettered.
            await producer.ProduceAsync(options.Topic, new Message<byte[]?, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers }, cancellationToken);
            consumer.Commit([new TopicPartitionOffset(record.TopicPartition, record.Offset + 1)]);
            count++;
            replayed?.Invoke(record);
            if (record.Offset.Value + 1 >= end)
            {
                ends.Remove(partition);
            }
        }

        if (ends.Count > 0)
        {
            throw new TimeoutException($"The dead-letter topic {options.DeadLetterTopic} stopped answering after {count} records were replayed; run the replay again.");
        }

        return count;
    }
}
