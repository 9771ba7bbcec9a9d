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
/// Applies one partition's records through the inbound path of <c>POST /api/v1/webhook</c> (<see cref="CustomerEventReader"/>,
/// then <see cref="IInboundEventGrain.Accept"/>: deduplicated by the sender's id, recorded, routed). Records come in
/// batches of those the partition's reader had fetched (<see cref="CustomerEventsOptions.BatchSize"/>): the records of
/// one Kafka key are applied one after the other in partition order, different keys side by side. A batch returns to
/// Orleans only once every record in it is applied or dead-lettered, and only then may its offsets be committed: at
/// least once, with duplicates absorbed by the id.
/// Bad input is dead-lettered at once; a refusal (not_found, idempotency_mismatch, …) after
/// <see cref="CustomerEventsOptions.MaxAttempts"/>; a transient failure (an exception: a database or silo away) holds the
/// rest of its key and makes the batch fail, so Orleans delivers it again with its own backoff (records already done are
/// skipped then), and is dead-lettered only after <see cref="CustomerEventsOptions.TransientRetryFor"/>.
/// </summary>
[ImplicitStreamSubscription(CustomerEventsOptions.StreamNamespace)]
public sealed partial class CustomerEventsConsumerGrain(
    CustomerEventDeadLetters deadLetters,
    IOptions<CustomerEventsOptions> options,
    TimeProvider time,
    ILogger<CustomerEventsConsumerGrain> logger) : Grain, ICustomerEventsConsumerGrain, IStreamSubscriptionObserver, IAsyncBatchObserver<KafkaRawRecord>
{
    /// <summary>Who the events came from: the system itself, naming Kafka and the topic (the inbound.received causation).</summary>
    public const string CallerId = "kafka";

    private readonly CustomerEventsOptions _options = options.Value;
    private readonly CustomerEventFailures _failures = new(options.Value);

    /// <summary>Records of a batch that failed and will come again which are done already (applied or dead-lettered).</summary>
    private readonly HashSet<(int Partition, long Offset)> _done = [];

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) => handleFactory.Create<KafkaRawRecord>().ResumeAsync(this);

    public async Task OnNextAsync(IList<SequentialItem<KafkaRawRecord>> items)
    {
        ArgumentNullException.ThrowIfNull(items);

        // Lanes run side by side on this activation (one thread at a time, so the sets above need no lock).
        var lanes = items.Select(i => i.Item).GroupBy(LaneOf, StringComparer.Ordinal).Select(lane => ApplyInOrderAsync(lane.ToList()));
        var held = (await Task.WhenAll(lanes)).Count(h => h);
        if (held > 0)
        {
            throw new InboundUnavailableException($"{held} event(s) of the batch could not be applied yet; the batch will be delivered again.");
        }

        _done.Clear();
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    /// <summary>Records with the same key keep their order; a record without a key promises no order.</summary>
    private static string LaneOf(KafkaRawRecord record) =>
        record.Key is { } key ? Convert.ToBase64String(key) : "@" + record.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>True when a record failed for a transient reason: it and the rest of the lane wait for the next delivery.</summary>
    private async Task<bool> ApplyInOrderAsync(List<KafkaRawRecord> lane)
    {
        foreach (var record in lane)
        {
            if (_done.Contains((record.Partition, record.Offset)))
            {
                continue;
            }

            if (!await ApplyAsync(record))
            {
                return true;
            }

            _done.Add((record.Partition, record.Offset));
        }

        return false;
    }

    /// <summary>Applies or dead-letters the record (true), or tells it failed for a transient reason (false).</summary>
    private async Task<bool> ApplyAsync(KafkaRawRecord item)
    {
        var (inbound, invalid) = CustomerEventReader.Read(item, _options.MaxBodyBytes);
        if (invalid is not null)
        {
            await deadLetters.SendAsync(item, invalid, attempts: 1, time.GetUtcNow());
            return true;
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
                    _failures.Succeeded(item);
                    return true;
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
            return true;
        }

        LogTransient(logger, failure, item.Topic, item.Partition, item.Offset, attempts, refused?.Message);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka {Topic}: the event at partition {Partition} offset {Offset} failed {Attempts} times for a transient reason ({Refusal}); Orleans delivers it again")]
    private static partial void LogTransient(ILogger logger, Exception? exception, string topic, int partition, long offset, int attempts, string? refusal);
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
