using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// A business event as <c>POST /api/v1/webhook</c> received it (INTEGRATION.md §3), checked by the gateway.
/// <see cref="BodyHash"/> identifies the body (a reused id with another body is refused); <see cref="InboxId"/> is the
/// inbox a contact's new conversation starts in; <see cref="AllowedInboxes"/> restricts a key to some inboxes (null: all).
/// <see cref="Timeout"/>: the sender's own deadline (<c>Kefu-Timeout-Ms</c>), counted from acceptance: the routes the event
/// triggers get no more time than that (issue #15). Not part of the body, so not of its hash.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InboundEvent(
    [property: Id(0)] string SourceId,
    [property: Id(1)] string Type,
    [property: Id(2)] string? ConversationId,
    [property: Id(3)] string? ExternalId,
    [property: Id(4)] string? Name,
    [property: Id(5)] string? Email,
    [property: Id(6)] string DataJson,
    [property: Id(7)] string BodyHash,
    [property: Id(8)] string InboxId,
    [property: Id(9)] string[]? AllowedInboxes,
    [property: Id(10)] TimeSpan? Timeout = null);

/// <summary>The answer to an accepted event; the same answer (with <see cref="Replayed"/>) for the same id again.</summary>
[GenerateSerializer, Immutable]
public sealed record InboundAck(
    [property: Id(0)] string EventId,
    [property: Id(1)] bool Replayed,
    [property: Id(2)] string? ConversationId,
    [property: Id(3)] string? ContactId);

public static class InboundErrors
{
    /// <summary>The sender's id (or an Idempotency-Key) was used before with a different body: 422.</summary>
    public const string IdempotencyMismatch = "idempotency_mismatch";
}

/// <summary>
/// One sender event id: <c>Tenancy.Key(tenant, sourceId)</c>. The grain is the durable deduplication record — it holds the
/// body's hash and the original answer for the retention window, and being single-threaded it turns concurrent
/// duplicates into one event.
/// </summary>
public interface IInboundEventGrain : IGrainWithStringKey
{
    /// <summary>
    /// Accepts the event once: records it (inbound.received) durably and answers; the same body again within the
    /// retention window gets the original answer (<see cref="InboundAck.Replayed"/>), another body
    /// <see cref="InboundErrors.IdempotencyMismatch"/>. not_found / not_allowed for a conversation that is not there or
    /// not the key's (nothing is recorded then).
    /// </summary>
    Task<Outcome<InboundAck>> Accept(InboundEvent inbound, Caller caller);
}

/// <summary>An answer kept for an <c>Idempotency-Key</c>: replayed as it was.</summary>
[GenerateSerializer, Immutable]
public sealed record StoredResponse(
    [property: Id(0)] int Status,
    [property: Id(1)] string? ContentType,
    [property: Id(2)] byte[] Body,
    [property: Id(3)] string? Location);

public enum IdempotencyDecision
{
    /// <summary>First time (or the earlier attempt failed): run the request, then Complete or Abandon.</summary>
    Proceed = 0,

    /// <summary>Answered before: replay <see cref="IdempotencyBegin.Response"/>.</summary>
    Replay = 1,

    /// <summary>The key was used with a different request: 422 idempotency_mismatch.</summary>
    Mismatch = 2,

    /// <summary>The same key's first request is still running: 409, try again.</summary>
    InProgress = 3,
}

[GenerateSerializer, Immutable]
public sealed record IdempotencyBegin(
    [property: Id(0)] IdempotencyDecision Decision,
    [property: Id(1)] StoredResponse? Response);

/// <summary>
/// One <c>Idempotency-Key</c> of one caller: <c>Tenancy.Key(tenant, callerId + "\n" + key)</c>. Holds the request's
/// fingerprint and its successful answer for the retention window; one request at a time runs under a key.
/// </summary>
public interface IIdempotencyGrain : IGrainWithStringKey
{
    Task<IdempotencyBegin> Begin(string fingerprint);

    /// <summary>Stores the successful answer (durably) and releases the key.</summary>
    Task Complete(string fingerprint, StoredResponse response);

    /// <summary>The request failed: forget it, so a retry runs again.</summary>
    Task Abandon(string fingerprint);
}
