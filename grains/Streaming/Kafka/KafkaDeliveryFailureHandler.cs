using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// Called after Orleans retried a delivery for its whole <c>MaxEventDeliveryTime</c> and gave up. The record is logged
/// with its offset and no longer holds the partition's commit back: otherwise one poisoned event would pin the
/// committed offset and every later event would be read again after each restart. (A dead-letter topic comes later.)
/// Subscriptions are not faulted: the consumer gets the next events.
/// </summary>
internal sealed partial class KafkaDeliveryFailureHandler(QueueId queueId, KafkaReceivers receivers, ILogger logger) : IStreamFailureHandler
{
    public bool ShouldFaultSubsriptionOnError => false;

    public Task OnDeliveryFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        LogDeliveryFailed(logger, streamProviderName, streamIdentity.ToString(), sequenceToken?.SequenceNumber ?? -1, subscriptionId.ToString());
        if (sequenceToken is not null)
        {
            receivers.GaveUp(queueId, sequenceToken.SequenceNumber);
        }

        return Task.CompletedTask;
    }

    public Task OnSubscriptionFailure(GuidId subscriptionId, string streamProviderName, StreamId streamIdentity, StreamSequenceToken? sequenceToken)
    {
        LogSubscriptionFailed(logger, streamProviderName, streamIdentity.ToString(), subscriptionId.ToString());
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Streams {Provider}: gave up delivering stream {Stream} at offset {Offset} to subscription {Subscription}")]
    private static partial void LogDeliveryFailed(ILogger logger, string provider, string stream, long offset, string subscription);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Streams {Provider}: subscription {Subscription} to stream {Stream} failed")]
    private static partial void LogSubscriptionFailed(ILogger logger, string provider, string stream, string subscription);
}
