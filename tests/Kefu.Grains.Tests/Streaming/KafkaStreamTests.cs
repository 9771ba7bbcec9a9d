using Confluent.Kafka;
using Kefu.Grains.Streaming;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>Issue #16, item 1: Orleans streams over Kafka, end to end through a silo and librdkafka's mock cluster.</summary>
[Collection(KafkaStreamsCollection.Name)]
public sealed class KafkaStreamTests(KafkaStreamsFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task EventsOnSeveralStreamsReachTheirSubscriberEachOnceInOrder()
    {
        const int events = 30;
        var streams = Enumerable.Range(0, 8).Select(_ => Scenario.NewId("ordered")).ToList();

        // Several producers at once, so the partitions interleave streams.
        await Task.WhenAll(streams.Select(stream =>
            Client.GetGrain<IStreamTestProducer>(stream).Produce(OrderedStreamConsumer.Namespace, stream, 0, events)));

        foreach (var stream in streams)
        {
            var received = await Scenario.EventuallyAsync(() => Client.GetGrain<IOrderedStreamConsumer>(stream).Received(),
                r => r.Count >= events, $"{events} events on {stream}", Deadline);
            Assert.Equal(Enumerable.Range(0, events), received);
        }

        // They went through the topic, and the silo committed past them once Orleans had delivered them.
        await Scenario.EventuallyAsync(() => Task.FromResult(fixture.CommittedOffsets()), n => n >= streams.Count * events,
            "the group's offsets past the delivered events", Deadline);
    }

    [Fact]
    public async Task AConsumerThatThrowsGetsTheEventAgainAndThenTheRestInOrder()
    {
        const int events = 10;
        var stream = Scenario.NewId("flaky");

        await Client.GetGrain<IStreamTestProducer>(stream).Produce(FlakyStreamConsumer.Namespace, stream, 0, events);

        var consumer = Client.GetGrain<IFlakyStreamConsumer>(stream);
        var received = await Scenario.EventuallyAsync(consumer.Received, r => r.Count >= events, $"{events} events on {stream}", Deadline);
        Assert.Equal(Enumerable.Range(0, events), received);
        Assert.Equal(2, await consumer.Attempts(FlakyStreamConsumer.RefusedOnce));
        Assert.Equal(1, await consumer.Attempts(FlakyStreamConsumer.RefusedOnce + 1));
    }

    [Fact]
    public async Task AClientProducesThroughTheSameProviderToTheSamePartitions()
    {
        const int events = 10;
        var stream = Scenario.NewId("from-client");
        var producer = Client.GetStreamProvider(KefuStreams.ProviderName).GetStream<StreamTestEvent>(StreamId.Create(OrderedStreamConsumer.Namespace, stream));
        for (var i = 0; i < events; i++)
        {
            await producer.OnNextAsync(new StreamTestEvent(stream, i));
        }

        var received = await Scenario.EventuallyAsync(() => Client.GetGrain<IOrderedStreamConsumer>(stream).Received(),
            r => r.Count >= events, $"{events} events on {stream}", Deadline);
        Assert.Equal(Enumerable.Range(0, events), received);
    }

    [Fact]
    public async Task UnreadableRecordsOnTheTopicDoNotStopThePartitions()
    {
        using (var raw = fixture.NewProducer())
        {
            for (var partition = 0; partition < KafkaStreamsFixture.Partitions; partition++)
            {
                var target = new TopicPartition(KafkaStreamsFixture.Topic, partition);
                await raw.ProduceAsync(target, new Message<byte[], byte[]> { Value = "{\"not\":\"an orleans batch\"}"u8.ToArray() });
                await raw.ProduceAsync(target, new Message<byte[], byte[]> { Value = [0xFF, 0x00, 0x13, 0x37, 0xFE] });
                await raw.ProduceAsync(target, new Message<byte[], byte[]> { Value = [] });
            }
        }

        const int events = 5;
        var streams = Enumerable.Range(0, 8).Select(_ => Scenario.NewId("after-garbage")).ToList();
        await Task.WhenAll(streams.Select(stream =>
            Client.GetGrain<IStreamTestProducer>(stream).Produce(OrderedStreamConsumer.Namespace, stream, 0, events)));

        foreach (var stream in streams)
        {
            var received = await Scenario.EventuallyAsync(() => Client.GetGrain<IOrderedStreamConsumer>(stream).Received(),
                r => r.Count >= events, $"{events} events on {stream}", Deadline);
            Assert.Equal(Enumerable.Range(0, events), received);
        }
    }
}
