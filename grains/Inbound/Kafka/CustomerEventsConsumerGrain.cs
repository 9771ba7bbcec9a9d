using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Streaming.Kafka;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace Kefu.Grains.Inbound.Kafka;

/// <summary>The consumer of one partition of <c>customer_events</c>; its key is the partition number.</summary>
public interface ICustomerEventsConsumerGrain : IGrainWithStringKey;

/// <summary>
/// Applies one partition's records in partition order, each through the inbound path of <c>POST /api/v1/webhook</c>
/// (<see cref="CustomerEventReader"/>, then <see cref="IInboundEventGrain.Accept"/>: deduplicated by the sender's id,
/// recorded, routed). A record returns from <see cref="OnNextAsync"/> only once it is applied or dead-lettered, and only
/// then may its offset be committed: at least once, with duplicates absorbed by the id.
/// Bad input is dead-lettered at once; a refusal (not_found, idempotency_mismatch, …) after
/// <see cref="CustomerEventsOptions.MaxAttempts"/>; a transient failure (an exception: a database or silo away) is thrown
/// back to Orleans, which delivers the record again with its own backoff, and is dead-lettered only after
/// <see cref="CustomerEventsOptions.TransientRetryFor"/> — until then the partition waits rather than reorder.
/// </summary>
[ImplicitStreamSubscription(CustomerEventsOptions.StreamNamespace)]
public sealed partial class CustomerEventsConsumerGrain(
    CustomerEventDeadLetters deadLetters,
    IOptions<CustomerEventsOptions> options,
    TimeProvider time,
    ILogger<CustomerEventsConsumerGrain> logger) : Grain, ICustomerEventsConsumerGrain, IStreamSubscriptionObserver, IAsyncObserver<KafkaRawRecord>
{
    /// <summary>Who the events came from: the system itself, naming Kafka and the topic (the inbound.received causation).</summary>
    public const string CallerId = "kafka";

    private readonly CustomerEventsOptions _options = options.Value;
    private readonly CustomerEventFailures _failures = new(options.Value);

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<KafkaRawRecord>().ResumeAsync(this);

    public async Task OnNextAsync(KafkaRawRecord item, StreamSequenceToken? token = null)
    {
        var (inbound, invalid) = CustomerEventReader.Read(item, _options.MaxBodyBytes);
        if (invalid is not null)
        {
            await deadLetters.SendAsync(item, invalid, attempts: 1, time.GetUtcNow());
            return;
        }

        var caller = new Caller(_options.Tenant, ParticipantRole.System, CallerId, item.Topic, IsAdmin: false);
        var grain = GrainFactory.GetGrain<IInboundEventGrain>(Tenancy.Key(_options.Tenant, inbound!.SourceId));
        KefuError? refused = null;
        Exception? failure = null;
        for (var attempt = 1; attempt <= _options.MaxAttempts; attempt++)
        {
            try
            {
                var outcome = await grain.Accept(inbound, caller);
                if (outcome.Error is null)
                {
                    _failures.Succeeded();
                    return;
                }

                (refused, failure) = (outcome.Error, null);
            }
            catch (Exception e)
            {
                (refused, failure) = (null, e);
            }

            if (attempt < _options.MaxAttempts)
            {
                await Task.Delay(_options.DelayAfter(attempt), time);
            }
        }

        var now = time.GetUtcNow();
        var (deadLetter, attempts) = _failures.Failed(item, refused, failure, _options.MaxAttempts, now);
        if (deadLetter is not null)
        {
            await deadLetters.SendAsync(item, deadLetter, attempts, now);
            return;
        }

        LogTransient(logger, failure, item.Topic, item.Partition, item.Offset, attempts);
        throw new InboundUnavailableException(
            $"The event at {item.Topic}/{item.Partition}@{item.Offset} could not be applied yet ({refused?.Message ?? failure?.Message}); it will be delivered again.");
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka {Topic}: the event at partition {Partition} offset {Offset} failed {Attempts} times for a transient reason; Orleans delivers it again")]
    private static partial void LogTransient(ILogger logger, Exception? exception, string topic, int partition, long offset, int attempts);
}

/// <summary>An inbound event could not be applied for now (the cause is the inner exception); its delivery is retried.</summary>
[GenerateSerializer]
public sealed class InboundUnavailableException : Exception
{
    public InboundUnavailableException()
    {
    }

    public InboundUnavailableException(string message) : base(message)
    {
    }

    public InboundUnavailableException(string message, Exception inner) : base(message, inner)
    {
    }
}
