namespace Kefu.Contracts.Grains;

/// <summary>
/// A tenant's relay from the event log (the outbox) to the Kafka topic <c>conversation_events</c> (issue #16,
/// docs/integration.md §15). Key: the tenant. Started by every silo at start for the configured tenants; a reminder
/// keeps it running.
/// </summary>
public interface IConversationEventsRelayGrain : IGrainWithStringKey
{
    /// <summary>Starts relaying (idempotent): the first start places the cursor (the log's start, or its head).</summary>
    Task Start();

    /// <summary>New events may be there: look now instead of at the next poll.</summary>
    Task Poke();

    Task<ConversationEventsRelayStatus> GetStatus();
}

/// <summary>
/// Where a relay is: <see cref="Cursor"/> is durable (every event up to it is on the topic); <see cref="Skipped"/> counts
/// events Kafka refused for good (too large, invalid), each logged and listed in <see cref="LastSkipped"/>.
/// <see cref="ActiveSince"/>: when this activation of the relay started (it changes after a move or a restart).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ConversationEventsRelayStatus(
    [property: Id(0)] bool Started,
    [property: Id(1)] long Cursor,
    [property: Id(2)] long Produced,
    [property: Id(3)] long Skipped,
    [property: Id(4)] SkippedEvent[] LastSkipped,
    [property: Id(5)] string? LastError,
    [property: Id(6)] DateTimeOffset ActiveSince);

/// <summary>An event Kafka refused for good: it stays in the event log (and the events API), only the topic lacks it.</summary>
[GenerateSerializer, Immutable]
public sealed record SkippedEvent(
    [property: Id(0)] string EventId,
    [property: Id(1)] string Type,
    [property: Id(2)] long Cursor,
    [property: Id(3)] string Reason,
    [property: Id(4)] DateTimeOffset At);
