using System.Collections.Concurrent;
using Orleans.Streams;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// The running receiver of each queue on this silo, so the delivery-failure handler Orleans holds per queue can tell
/// the receiver that owns the offset.
/// </summary>
internal sealed class KafkaReceivers
{
    private readonly ConcurrentDictionary<QueueId, KafkaQueueAdapterReceiver> _running = new();

    public void Add(KafkaQueueAdapterReceiver receiver) => _running[receiver.QueueId] = receiver;

    public void Remove(KafkaQueueAdapterReceiver receiver) => _running.TryRemove(KeyValuePair.Create(receiver.QueueId, receiver));

    public void GaveUp(QueueId queueId, long offset)
    {
        if (_running.TryGetValue(queueId, out var receiver))
        {
            receiver.GaveUp(offset);
        }
    }
}
