using System.Diagnostics.Metrics;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.ConversationEvents;

[GenerateSerializer]
public sealed class ConversationEventsRelayState
{
    [Id(0)] public bool Started { get; set; }

    /// <summary>Every event up to here is on the topic (or was refused for good and recorded): the durable cursor.</summary>
    [Id(1)] public long Cursor { get; set; }

    [Id(2)] public long Produced { get; set; }

    [Id(3)] public long Skipped { get; set; }

    /// <summary>The newest events Kafka refused for good (at most <see cref="ConversationEventsRelayGrain.SkippedKept"/>).</summary>
    [Id(4)] public List<SkippedEvent> LastSkipped { get; set; } = [];
}

/// <summary>
/// A tenant's relay to Kafka <c>conversation_events</c> (key: the tenant; docs/integration.md §15). Each step reads a
/// page after the durable cursor, produces it, waits for every delivery report and only then writes the new cursor
/// (<see cref="ConversationEventsRelay"/>). A silo lost between the produce and the write leaves the cursor behind, so
/// that tail is produced again: at least once, consumers drop repeats by <c>ce_id</c>. A failed step (broker down) is
/// retried with a doubling delay and skips nothing. The pump runs on an interleaving timer (the poll for other silos'
/// events), is woken by <see cref="ConversationEventsWakeups"/>, and a reminder brings it back after its silo is lost.
/// </summary>
public sealed partial class ConversationEventsRelayGrain(
    [PersistentState("conversationEventsRelay", KefuStorage.Name)] IPersistentState<ConversationEventsRelayState> state,
    IEventLog eventLog,
    IConversationEventsProducer producer,
    ConversationEventsWakeups wakeups,
    IOptions<ConversationEventsOptions> options,
    TimeProvider time,
    ILogger<ConversationEventsRelayGrain> logger) : Grain, IConversationEventsRelayGrain, IRemindable
{
    public const int SkippedKept = 20;
    private const string KeepAliveReminder = "conversation-events-keepalive";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly Meter Meter = new("Kefu.Kafka.ConversationEvents");
    private static readonly Counter<long> ProducedCounter = Meter.CreateCounter<long>("kefu.kafka.conversation_events.produced", description: "Events produced to conversation_events");
    private static readonly Counter<long> SkippedCounter = Meter.CreateCounter<long>("kefu.kafka.conversation_events.skipped", description: "Events Kafka refused for good");

    private readonly ConversationEventsOptions _options = options.Value;
    private readonly ConversationEventsRelay _relay = new(eventLog, producer, options.Value);
    private EventLogPump? _pump;
    private TimeSpan _delay;
    private DateTimeOffset _retryAt;
    private string? _lastError;
    private DateTimeOffset _activeSince;

    private string Tenant => this.GetPrimaryKeyString();

    private EventLogPump Pump => _pump ??= new(wakeups, Tenant, DrainAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activeSince = time.GetUtcNow();
        if (state.State.Started)
        {
            StartPump();
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        StopPump();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Activation started the pump; the tick only has to exist (it brings the relay back on another silo).
        Wake();
        return Task.CompletedTask;
    }

    public async Task Start()
    {
        if (!state.State.Started)
        {
            state.State.Cursor = _options.StartsAtLatest ? await HeadAsync() : 0;
            state.State.Started = true;
            await state.WriteStateAsync();
            LogStarted(logger, Tenant, _options.Topic, state.State.Cursor);
        }

        await this.RegisterOrUpdateReminder(KeepAliveReminder, ReminderPeriod, ReminderPeriod);
        StartPump();
        Wake();
    }

    public Task Poke()
    {
        Wake();
        return Task.CompletedTask;
    }

    public Task<ConversationEventsRelayStatus> GetStatus() => Task.FromResult(new ConversationEventsRelayStatus(
        state.State.Started, state.State.Cursor, state.State.Produced, state.State.Skipped, [.. state.State.LastSkipped], _lastError, _activeSince));

    private void StartPump()
    {
        var self = this.AsReference<IConversationEventsRelayGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), _options.PollInterval);
    }

    private void StopPump() => _pump?.Stop();

    private void Wake() => Pump.Wake(state.State.Started);

    private async Task DrainAsync()
    {
        // Backing off after a failure: neither wake-ups nor the poll hammer a broker that is down.
        if (!state.State.Started || time.GetUtcNow() < _retryAt)
        {
            return;
        }

        try
        {
            await Pump.RunAsync(async () =>
            {
                while (await StepAsync())
                {
                }

                return time.GetUtcNow() >= _retryAt;
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The event log or the state store failed: the same events are read again after the delay.
            LogStepFailed(logger, ex, Tenant);
            Failed(ex.Message);
        }
    }

    /// <summary>One page: produced and the cursor saved; true when there may be more to read at once.</summary>
    private async Task<bool> StepAsync()
    {
        Pump.Rearm();
        var before = state.State.Cursor;
        var step = await _relay.StepAsync(Tenant, before, time.GetUtcNow());
        if (step.CursorExpired)
        {
            LogCursorExpired(logger, Tenant, before);
        }

        foreach (var skipped in step.Skipped)
        {
            LogSkipped(logger, Tenant, skipped.EventId, skipped.Type, skipped.Reason);
        }

        if (step.Cursor > before || step.Skipped.Count > 0)
        {
            state.State.Cursor = Math.Max(before, step.Cursor);
            state.State.Produced += step.Produced;
            state.State.Skipped += step.Skipped.Count;
            if (step.Skipped.Count > 0)
            {
                state.State.LastSkipped.AddRange(step.Skipped);
                state.State.LastSkipped.RemoveRange(0, Math.Max(0, state.State.LastSkipped.Count - SkippedKept));
            }

            await state.WriteStateAsync();
            ProducedCounter.Add(step.Produced, new KeyValuePair<string, object?>("tenant", Tenant));
            if (step.Skipped.Count > 0)
            {
                SkippedCounter.Add(step.Skipped.Count, new KeyValuePair<string, object?>("tenant", Tenant));
            }
        }

        if (step.Failure is { } failure)
        {
            LogDeliveryFailed(logger, Tenant, state.State.Cursor, failure);
            Failed(failure);
            return false;
        }

        _delay = TimeSpan.Zero;
        _retryAt = default;
        _lastError = null;
        return step.More;
    }

    private void Failed(string error)
    {
        _lastError = error;
        _delay = _delay == TimeSpan.Zero ? _options.RetryDelay : TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        _retryAt = time.GetUtcNow() + _delay;
    }

    /// <summary>The tenant's newest cursor.</summary>
    private async Task<long> HeadAsync()
    {
        string[] none = ["-"];
        var after = 0L;
        while (true)
        {
            var page = await eventLog.ReadAsync(Tenant, after, none, 1);
            if (page.Next <= after)
            {
                return after;
            }

            after = page.Next;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Kafka conversation_events {Tenant}: relaying to topic {Topic} from cursor {Cursor}")]
    private static partial void LogStarted(ILogger logger, string tenant, string topic, long cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka conversation_events {Tenant}: a step of the relay failed; it is retried")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka conversation_events {Tenant}: not delivered after cursor {Cursor} ({Reason}); retried with backoff, nothing skipped")]
    private static partial void LogDeliveryFailed(ILogger logger, string tenant, long cursor, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Kafka conversation_events {Tenant}: event {EventId} ({Type}) refused for good and skipped: {Reason}. It stays in the event log (GET /api/v1/events)")]
    private static partial void LogSkipped(ILogger logger, string tenant, string eventId, string type, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka conversation_events {Tenant}: events after cursor {Cursor} were pruned by retention before they were relayed")]
    private static partial void LogCursorExpired(ILogger logger, string tenant, long cursor);
}
