using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// What one Kafka record of the streams topic holds: one <c>OnNextBatchAsync</c>/<c>OnNextAsync</c> of one stream,
/// written with Orleans' version-tolerant serializer (the topic is internal to the cluster, not an integration contract).
/// </summary>
[GenerateSerializer]
public sealed class KafkaBatchPayload
{
    [Id(0)] public StreamId StreamId { get; init; }

    [Id(1)] public List<object> Events { get; init; } = [];

    /// <summary>The producer's request context (trace ids, …), restored around delivery.</summary>
    [Id(2)] public Dictionary<string, object>? RequestContext { get; init; }
}

/// <summary>
/// One record as Orleans sees it (or a run of records of one stream, joined: <see cref="KafkaStreamOptions.MaxRecordsPerBatch"/>):
/// the payload and its place in the partition. The sequence token is the (first) record's offset (event <c>i</c> of the
/// batch gets event index <c>i</c>), so tokens order exactly as the partition does and the offset to commit is read back
/// from the token.
/// </summary>
[GenerateSerializer]
public sealed class KafkaBatchContainer : IBatchContainer
{
    public KafkaBatchContainer(KafkaBatchPayload payload, long offset, long lastOffset = -1)
    {
        Payload = payload;
        Token = new EventSequenceTokenV2(offset);
        LastOffset = Math.Max(offset, lastOffset);
    }

    [Id(0)] public KafkaBatchPayload Payload { get; private set; }

    [Id(1)] public EventSequenceTokenV2 Token { get; private set; }

    /// <summary>The last record's offset when several records of one stream were joined into this batch (else <see cref="Offset"/>).</summary>
    [Id(2)] public long LastOffset { get; private set; }

    public long Offset => Token.SequenceNumber;

    public StreamId StreamId => Payload.StreamId;

    public StreamSequenceToken SequenceToken => Token;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>()
    {
        // The index counts every event of the batch, so a consumer of one type sees the same tokens as one of another.
        for (var i = 0; i < Payload.Events.Count; i++)
        {
            if (Payload.Events[i] is T item)
            {
                yield return Tuple.Create(item, (StreamSequenceToken)Token.CreateSequenceTokenForEvent(i));
            }
        }
    }

    public bool ImportRequestContext()
    {
        if (Payload.RequestContext is not { Count: > 0 } context)
        {
            return false;
        }

        RequestContextExtensions.Import(context);
        return true;
    }

    public override string ToString() => $"KafkaBatchContainer({StreamId}, offset {Offset}, {Payload.Events.Count} events)";
}
