using Kefu.Grains.Streaming;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Kefu.Grains.Tests.Streaming;

[GenerateSerializer, Immutable]
public sealed record StreamTestEvent([property: Id(0)] string Stream, [property: Id(1)] int Number);

public interface IStreamTestProducer : IGrainWithStringKey
{
    /// <summary>Sends events <paramref name="from"/> … <paramref name="from"/>+<paramref name="count"/>-1 one by one on the stream.</summary>
    Task Produce(string streamNamespace, string streamKey, int from, int count);
}

public sealed class StreamTestProducer : Grain, IStreamTestProducer
{
    public async Task Produce(string streamNamespace, string streamKey, int from, int count)
    {
        var stream = this.GetStreamProvider(KefuStreams.ProviderName).GetStream<StreamTestEvent>(StreamId.Create(streamNamespace, streamKey));
        for (var i = from; i < from + count; i++)
        {
            await stream.OnNextAsync(new StreamTestEvent(streamKey, i));
        }
    }
}

public interface IStreamTestConsumer : IGrainWithStringKey
{
    /// <summary>The numbers accepted, in the order they were accepted.</summary>
    Task<List<int>> Received();

    /// <summary>How many times the event with this number was offered (refusals included).</summary>
    Task<int> Attempts(int number);
}

public interface IOrderedStreamConsumer : IStreamTestConsumer;

public interface IFlakyStreamConsumer : IStreamTestConsumer;

/// <summary>Implicitly subscribed to every stream of its namespace; its key is the stream's key.</summary>
public abstract class RecordingStreamConsumer : Grain, IStreamTestConsumer, IStreamSubscriptionObserver, IAsyncObserver<StreamTestEvent>
{
    private readonly List<int> _received = [];
    private readonly Dictionary<int, int> _attempts = [];

    public Task<List<int>> Received() => Task.FromResult(_received.ToList());

    public Task<int> Attempts(int number) => Task.FromResult(_attempts.GetValueOrDefault(number));

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<StreamTestEvent>().ResumeAsync(this);

    public Task OnNextAsync(StreamTestEvent item, StreamSequenceToken? token = null)
    {
        var attempt = _attempts[item.Number] = _attempts.GetValueOrDefault(item.Number) + 1;
        if (Refuse(item, attempt))
        {
            throw new InvalidOperationException($"Refusing event {item.Number} the first time.");
        }

        _received.Add(item.Number);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    protected abstract bool Refuse(StreamTestEvent item, int attempt);
}

[ImplicitStreamSubscription(Namespace)]
public sealed class OrderedStreamConsumer : RecordingStreamConsumer, IOrderedStreamConsumer
{
    public const string Namespace = "kafka-test-ordered";

    protected override bool Refuse(StreamTestEvent item, int attempt) => false;
}

/// <summary>Throws the first time it is offered event <see cref="RefusedOnce"/>.</summary>
[ImplicitStreamSubscription(Namespace)]
public sealed class FlakyStreamConsumer : RecordingStreamConsumer, IFlakyStreamConsumer
{
    public const string Namespace = "kafka-test-flaky";
    public const int RefusedOnce = 4;

    protected override bool Refuse(StreamTestEvent item, int attempt) => item.Number == RefusedOnce && attempt == 1;
}
