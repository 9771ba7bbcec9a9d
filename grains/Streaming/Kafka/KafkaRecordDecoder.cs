using System.Globalization;
using Confluent.Kafka;
using Orleans.Serialization;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// Turns one Kafka record into what a provider delivers: the events of one stream. The provider's own topic holds
/// Orleans-serialized batches (<see cref="OrleansBatchDecoder"/>); a topic other systems write, such as
/// <c>customer_events</c>, gets a decoder of its own (<see cref="RawRecordDecoder"/>). Runs on the receiver's consume
/// thread: it must be quick and never block. Null (or an exception) means unreadable: the record is logged and skipped.
/// </summary>
public interface IKafkaRecordDecoder
{
    KafkaBatchPayload? Decode(ConsumeResult<byte[], byte[]> record);
}

/// <summary>The provider's own topic: each record is one <c>OnNextBatchAsync</c> written by <see cref="KafkaQueueAdapter"/>.</summary>
internal sealed class OrleansBatchDecoder(Serializer<KafkaBatchPayload> serializer) : IKafkaRecordDecoder
{
    public KafkaBatchPayload? Decode(ConsumeResult<byte[], byte[]> record) =>
        record.Message.Value is { Length: > 0 } value && serializer.Deserialize(value) is { Events: not null } payload ? payload : null;
}

/// <summary>
/// A topic written by other systems: every record, whatever its bytes, becomes one <see cref="KafkaRawRecord"/> on the
/// stream of its partition (namespace <paramref name="streamNamespace"/>, key = the partition number), so one consumer
/// sees a partition's records in partition order and decides itself what a bad one means (nothing is dropped here).
/// </summary>
public sealed class RawRecordDecoder(string streamNamespace) : IKafkaRecordDecoder
{
    public string StreamNamespace { get; } = streamNamespace;

    /// <summary>The stream that carries partition <paramref name="partition"/>'s records.</summary>
    public StreamId StreamOf(int partition) => StreamId.Create(StreamNamespace, partition.ToString(CultureInfo.InvariantCulture));

    public KafkaBatchPayload? Decode(ConsumeResult<byte[], byte[]> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var headers = record.Message.Headers is { Count: > 0 } h
            ? h.Select(header => new KafkaRecordHeader(header.Key, header.GetValueBytes())).ToArray()
            : [];
        var raw = new KafkaRawRecord(record.Topic, record.Partition.Value, record.Offset.Value, record.Message.Key, record.Message.Value ?? [], headers,
            record.Message.Timestamp.Type == TimestampType.NotAvailable ? null : record.Message.Timestamp.UtcDateTime);
        return new KafkaBatchPayload { StreamId = StreamOf(record.Partition.Value), Events = [raw] };
    }
}

/// <summary>One record of an external topic as it was read: its place, key, value and headers, untouched.</summary>
[GenerateSerializer, Immutable]
public sealed record KafkaRawRecord(
    [property: Id(0)] string Topic,
    [property: Id(1)] int Partition,
    [property: Id(2)] long Offset,
    [property: Id(3)] byte[]? Key,
    [property: Id(4)] byte[] Value,
    [property: Id(5)] KafkaRecordHeader[] Headers,
    [property: Id(6)] DateTime? Timestamp)
{
    /// <summary>The last value of header <paramref name="key"/> (Kafka allows repeats; the last one wins), as UTF-8 text.</summary>
    public string? Header(string key)
    {
        for (var i = Headers.Length - 1; i >= 0; i--)
        {
            if (string.Equals(Headers[i].Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return Headers[i].Value is { } value ? System.Text.Encoding.UTF8.GetString(value) : null;
            }
        }

        return null;
    }
}

[GenerateSerializer, Immutable]
public sealed record KafkaRecordHeader([property: Id(0)] string Key, [property: Id(1)] byte[]? Value);
