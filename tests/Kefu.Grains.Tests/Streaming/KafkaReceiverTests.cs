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
/// One partition's receiver driven the way Orleans' pulling agent drives it, on a topic and group of each test's own:
/// offsets are committed only past what was reported delivered, and unreadable records are skipped.
/// </summary>
[Collection(KafkaStreamsCollection.Name)]
public sealed class KafkaReceiverTests(KafkaStreamsFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ANewReceiverStartsAtTheFirstBatchNotDelivered()
    {
        var (factory, adapter, stream, queue, _) = await NewProviderAsync();
        using var _ = factory;
        await ProduceAsync(adapter, stream, 0, 6);

        var first = await StartAsync(adapter, queue);
        var read = await ReadAsync(first, 6);
        Assert.Equal(Enumerable.Range(0, 6), Numbers(read));
        // Orleans reports 0, 1, 2 and 4 delivered; 3 and 5 were read (and are in its cache) but not delivered.
        await first.MessagesDeliveredAsync([read[0], read[1], read[2], read[4]], CancellationToken.None);
        await first.Shutdown(Timeout, CancellationToken.None);

        // Not before 3 (0–2 were delivered) and not after it (3 was not): 4 comes again, as at-least-once allows.
        var second = await StartAsync(adapter, queue);
        var again = await ReadAsync(second, 3);
        Assert.Equal([3, 4, 5], Numbers(again));
        await second.MessagesDeliveredAsync(again, CancellationToken.None);
        await second.Shutdown(Timeout, CancellationToken.None);

        // All delivered: the next owner reads only what is new.
        var third = await StartAsync(adapter, queue);
        await ProduceAsync(adapter, stream, 6, 1);
        Assert.Equal([6], Numbers(await ReadAsync(third, 1)));
        await third.Shutdown(Timeout, CancellationToken.None);
    }

    [Fact]
    public async Task UnreadableRecordsAreSkippedAndCommittedPast()
    {
        var (factory, adapter, stream, queue, partition) = await NewProviderAsync();
        using var _ = factory;
        using var raw = fixture.NewProducer();
        await raw.ProduceAsync(partition, new Message<byte[], byte[]> { Value = "not an orleans batch"u8.ToArray() });
        await ProduceAsync(adapter, stream, 0, 1);
        await raw.ProduceAsync(partition, new Message<byte[], byte[]> { Value = [0xFF, 0xFE, 0x00] });
        await ProduceAsync(adapter, stream, 1, 1);

        var first = await StartAsync(adapter, queue);
        var read = await ReadAsync(first, 2);
        Assert.Equal([0, 1], Numbers(read));
        await first.MessagesDeliveredAsync(read, CancellationToken.None);
        await first.Shutdown(Timeout, CancellationToken.None);

        // Had the commit stopped at a skipped record, the next receiver would read event 0 again.
        var second = await StartAsync(adapter, queue);
        await ProduceAsync(adapter, stream, 2, 1);
        Assert.Equal([2], Numbers(await ReadAsync(second, 1)));
        await second.Shutdown(Timeout, CancellationToken.None);
    }

    [Fact]
    public async Task ABatchOrleansGaveUpDeliveringNoLongerHoldsTheCommitBack()
    {
        var (factory, adapter, stream, queue, _) = await NewProviderAsync();
        using var _ = factory;
        await ProduceAsync(adapter, stream, 0, 3);

        var first = await StartAsync(adapter, queue);
        var read = await ReadAsync(first, 3);
        // 0 and 2 delivered; 1 failed for Orleans' whole delivery time, and Orleans tells the queue's failure handler.
        await first.MessagesDeliveredAsync([read[0], read[2]], CancellationToken.None);
        var failures = await factory.GetDeliveryFailureHandler(queue);
        Assert.False(failures.ShouldFaultSubsriptionOnError);
        await failures.OnDeliveryFailure(GuidId.GetNewGuidId(), "receiver-test", stream, read[1].SequenceToken);
        await first.Shutdown(Timeout, CancellationToken.None);

        var second = await StartAsync(adapter, queue);
        await ProduceAsync(adapter, stream, 3, 1);
        Assert.Equal([3], Numbers(await ReadAsync(second, 1)));
        await second.Shutdown(Timeout, CancellationToken.None);
    }

    [Fact]
    public async Task ASettingLibrdkafkaRefusesFailsInitializeWithTheReason()
    {
        var options = new KafkaStreamOptions
        {
            BootstrapServers = fixture.Bootstrap,
            Topic = Scenario.NewId("kefu-test-receiver"),
            Client = { ["no.such.setting"] = "1" },
        };
        using var factory = new KafkaQueueAdapterFactory("receiver-test", options, new SimpleQueueCacheOptions(),
            fixture.Client.ServiceProvider.GetRequiredService<Serializer<KafkaBatchPayload>>(), NullLoggerFactory.Instance);
        var adapter = await factory.CreateAdapter();
        var receiver = adapter.CreateReceiver(factory.GetStreamQueueMapper().GetAllQueues().First());

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => receiver.Initialize(Timeout, CancellationToken.None));
        Assert.Contains("no.such.setting", refused.Message, StringComparison.Ordinal);
        await receiver.Shutdown(Timeout, CancellationToken.None);
    }

    private async Task<(KafkaQueueAdapterFactory Factory, IQueueAdapter Adapter, StreamId Stream, QueueId Queue, TopicPartition Partition)> NewProviderAsync()
    {
        var topic = Scenario.NewId("kefu-test-receiver");
        await fixture.CreateTopicAsync(topic);
        var options = new KafkaStreamOptions
        {
            BootstrapServers = fixture.Bootstrap,
            Topic = topic,
            Partitions = KafkaStreamsFixture.Partitions,
            ConsumerGroup = Scenario.NewId("group"),
            CommitInterval = TimeSpan.FromMilliseconds(50),
        };
        var factory = new KafkaQueueAdapterFactory("receiver-test", options, new SimpleQueueCacheOptions(),
            fixture.Client.ServiceProvider.GetRequiredService<Serializer<KafkaBatchPayload>>(), NullLoggerFactory.Instance);
        var adapter = await factory.CreateAdapter();
        var stream = StreamId.Create("receiver-test", Scenario.NewId("s"));
        var mapper = (HashRingBasedPartitionedStreamQueueMapper)factory.GetStreamQueueMapper();
        var queue = mapper.GetQueueForStream(stream);
        return (factory, adapter, stream, queue, new TopicPartition(topic, int.Parse(mapper.QueueToPartition(queue), System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static async Task ProduceAsync(IQueueAdapter adapter, StreamId stream, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            await adapter.QueueMessageBatchAsync(stream, [new StreamTestEvent(stream.ToString(), i)], null, null);
        }
    }

    private static async Task<IQueueAdapterReceiver> StartAsync(IQueueAdapter adapter, QueueId queue)
    {
        var receiver = adapter.CreateReceiver(queue);
        await receiver.Initialize(Timeout, CancellationToken.None);
        return receiver;
    }

    /// <summary>Polls the receiver as the pulling agent does until it has given <paramref name="count"/> batches.</summary>
    private static async Task<List<IBatchContainer>> ReadAsync(IQueueAdapterReceiver receiver, int count)
    {
        var batches = new List<IBatchContainer>();
        await Scenario.EventuallyAsync(async () =>
        {
            batches.AddRange(await receiver.GetQueueMessagesAsync(100, CancellationToken.None));
            return batches.Count;
        }, n => n >= count, $"{count} batches", Timeout);
        return batches;
    }

    private static List<int> Numbers(IEnumerable<IBatchContainer> batches) =>
        batches.SelectMany(b => b.GetEvents<StreamTestEvent>()).Select(e => e.Item1.Number).ToList();
}
