using System.Text;
using Confluent.Kafka;
using Kefu.Grains.Streaming.Kafka;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Streams;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>
/// The Kafka provider over a topic other systems write (issue #16, customer_events): every record, whatever its bytes,
/// becomes a <see cref="KafkaRawRecord"/> on its partition's stream; records already fetched join one batch, which is
/// committed past only once delivered as a whole; the provider never writes to such a topic.
/// </summary>
[Collection(KafkaStreamsCollection.Name)]
public sealed class KafkaRawRecordReceiverTests(KafkaStreamsFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RecordsArriveRawInJoinedBatchesAndAreCommittedPastOnlyOnceDelivered()
    {
        var topic = Scenario.NewId("external");
        await fixture.CreateTopicAsync(topic);
        var decoder = new RawRecordDecoder("raw-test");
        var options = new KafkaStreamOptions
        {
            BootstrapServers = fixture.Bootstrap,
            Topic = topic,
            Partitions = KafkaStreamsFixture.Partitions,
            ConsumerGroup = Scenario.NewId("group"),
            CommitInterval = TimeSpan.FromMilliseconds(50),
            MaxRecordsPerBatch = 4,
            Decoder = decoder,
        };
        using var factory = new KafkaQueueAdapterFactory("raw-test", options, new SimpleQueueCacheOptions(),
            fixture.Client.ServiceProvider.GetRequiredService<Serializer<KafkaBatchPayload>>(), NullLoggerFactory.Instance);
        var adapter = await factory.CreateAdapter();
        Assert.Equal(StreamProviderDirection.ReadOnly, adapter.Direction);
        await Assert.ThrowsAsync<NotSupportedException>(() => adapter.QueueMessageBatchAsync(decoder.StreamOf(0), [1], null, null));

        using (var producer = fixture.NewProducer())
        {
            for (var i = 0; i < 6; i++)
            {
                var message = new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes($"k{i}"), Value = i == 3 ? [0xFF, 0x00] : Encoding.UTF8.GetBytes($"v{i}"), Headers = [] };
                message.Headers.Add("content-type", "text/plain"u8.ToArray());
                await producer.ProduceAsync(new TopicPartition(topic, 1), message);
            }
        }

        var queue = factory.GetStreamQueueMapper().GetAllQueues().Single(q => ((HashRingBasedPartitionedStreamQueueMapper)factory.GetStreamQueueMapper()).QueueToPartition(q) == "1");
        var first = adapter.CreateReceiver(queue);
        await first.Initialize(Timeout, CancellationToken.None);
        var batches = await ReadAsync(first, 6);
        var records = batches.SelectMany(b => b.GetEvents<KafkaRawRecord>()).Select(e => e.Item1).ToList();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.All(batches, b => Assert.Equal(decoder.StreamOf(1), b.StreamId));
        Assert.All(batches, b => Assert.InRange(b.GetEvents<KafkaRawRecord>().Count(), 1, 4));
        Assert.Equal([0xFF, 0x00], records[3].Value);
        Assert.Equal(("k5", "v5", "text/plain", 1), (Encoding.UTF8.GetString(records[5].Key!), Encoding.UTF8.GetString(records[5].Value), records[5].Header("Content-Type"), records[5].Partition));

        // Only the first batch delivered: the next reader starts at the second batch's first record.
        await first.MessagesDeliveredAsync([batches[0]], CancellationToken.None);
        await first.Shutdown(Timeout, CancellationToken.None);
        var firstCount = batches[0].GetEvents<KafkaRawRecord>().Count();
        var second = adapter.CreateReceiver(queue);
        await second.Initialize(Timeout, CancellationToken.None);
        var again = (await ReadAsync(second, 6 - firstCount)).SelectMany(b => b.GetEvents<KafkaRawRecord>()).Select(e => e.Item1.Offset);
        Assert.Equal(Enumerable.Range(firstCount, 6 - firstCount).Select(i => (long)i), again);
        await second.Shutdown(Timeout, CancellationToken.None);
    }

    /// <summary>Polls the receiver as the pulling agent does until it has given <paramref name="records"/> records.</summary>
    private static async Task<List<IBatchContainer>> ReadAsync(IQueueAdapterReceiver receiver, int records)
    {
        var batches = new List<IBatchContainer>();
        await Scenario.EventuallyAsync(async () =>
        {
            batches.AddRange(await receiver.GetQueueMessagesAsync(100, CancellationToken.None));
            return batches.Sum(b => b.GetEvents<KafkaRawRecord>().Count());
        }, n => n >= records, $"{records} records", Timeout);
        return batches;
    }
}
