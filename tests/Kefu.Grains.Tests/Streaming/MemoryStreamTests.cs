using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>Without Kafka configured the <c>kefu</c> stream provider is Orleans' memory streams, with the same behaviour.</summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class MemoryStreamTests(DefaultClusterFixture fixture)
{
    [Fact]
    public async Task WithoutKafkaEventsReachTheirSubscriberInOrder()
    {
        const int events = 20;
        var stream = Scenario.NewId("memory");

        await fixture.Client.GetGrain<IStreamTestProducer>(stream).Produce(OrderedStreamConsumer.Namespace, stream, 0, events);

        var received = await Scenario.EventuallyAsync(() => fixture.Client.GetGrain<IOrderedStreamConsumer>(stream).Received(),
            r => r.Count >= events, $"{events} events on {stream}", TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, events), received);
    }
}
