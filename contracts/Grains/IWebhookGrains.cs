using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// An outbound webhook endpoint (INTEGRATION.md §5): where the tenant's events are POSTed, signed with its secret.
/// <see cref="Events"/> holds type names or <c>*</c> (every type except explicit-only ones such as note.created, which
/// must be named); <see cref="Inboxes"/>, when set, keeps only the events of conversations in those inboxes
/// (tenant-level events such as contact.* always pass). <see cref="DisabledReason"/> says why a disabled endpoint
/// stopped (a 410 answer, failing too long, or an admin).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record WebhookEndpoint(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] string[] Events,
    [property: Id(3)] string[]? Inboxes,
    [property: Id(4)] string? Description,
    [property: Id(5)] bool Enabled,
    [property: Id(6)] string? DisabledReason,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] DateTimeOffset UpdatedAt);

/// <summary>What a new endpoint starts with (validated by the gateway and again by the grain).</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookEndpointDraft(
    [property: Id(0)] string Url,
    [property: Id(1)] string[] Events,
    [property: Id(2)] string[]? Inboxes,
    [property: Id(3)] string? Description);

/// <summary>A change: null members stay as they are. <see cref="Enabled"/> true re-enables a disabled endpoint (delivery resumes at its cursor).</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookEndpointPatch(
    [property: Id(0)] string? Url = null,
    [property: Id(1)] string[]? Events = null,
    [property: Id(2)] string[]? Inboxes = null,
    [property: Id(3)] string? Description = null,
    [property: Id(4)] bool? Enabled = null);

/// <summary>An endpoint with its delivery progress, for the API and the console.</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookEndpointView(
    [property: Id(0)] WebhookEndpoint Endpoint,
    [property: Id(1)] long Cursor,
    [property: Id(2)] int PendingRetries,
    [property: Id(3)] DateTimeOffset? FailingSince,
    [property: Id(4)] DateTimeOffset? CircuitOpenUntil,
    [property: Id(5)] DateTimeOffset? LastSuccessAt,
    [property: Id(6)] DateTimeOffset? SecretRotatedAt);

/// <summary>The endpoint and its secret: answered once, at creation and at a rotation.</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookEndpointWithSecret(
    [property: Id(0)] WebhookEndpointView View,
    [property: Id(1)] string Secret);

/// <summary>
/// One delivery attempt (the attempt log). <see cref="Status"/>: <c>succeeded</c> (2xx) or <c>failed</c>; <see cref="Final"/>:
/// no automatic retry follows (the schedule is exhausted, or the endpoint was disabled or deleted — a replay or the
/// retry call delivers it again); otherwise <see cref="NextAttemptAt"/> says when the next one is due.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record WebhookDelivery(
    [property: Id(0)] string Id,
    [property: Id(1)] string EventId,
    [property: Id(2)] string EventType,
    [property: Id(3)] long Cursor,
    [property: Id(4)] int Attempt,
    [property: Id(5)] string Status,
    [property: Id(6)] int? HttpStatus,
    [property: Id(7)] int LatencyMs,
    [property: Id(8)] string? ResponseExcerpt,
    [property: Id(9)] string? Error,
    [property: Id(10)] DateTimeOffset At,
    [property: Id(11)] DateTimeOffset? NextAttemptAt,
    [property: Id(12)] bool Final)
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>
/// One endpoint and its delivery (a durable cursor into the tenant's event log, the pending retries, the attempt log).
/// Key: <c>Tenancy.Key(tenant, endpointId)</c>. Kept alive by a reminder while it exists, so delivery continues after
/// a silo dies.
/// </summary>
public interface IWebhookEndpointGrain : IGrainWithStringKey
{
    /// <summary>Creates the endpoint with a new secret, delivering events from now on. invalid_field on a bad draft; conflict if it exists.</summary>
    Task<Outcome<WebhookEndpointWithSecret>> Create(WebhookEndpointDraft draft, Causation causation);

    /// <summary>The endpoint, or null when it does not exist.</summary>
    Task<WebhookEndpointView?> Get();

    Task<Outcome<WebhookEndpointView>> Update(WebhookEndpointPatch patch, Causation causation);

    /// <summary>Deletes the endpoint: no further delivery. False when it did not exist.</summary>
    Task<bool> Delete();

    /// <summary>A new secret; the previous one keeps signing too for the overlap (24 h by default).</summary>
    Task<Outcome<WebhookEndpointWithSecret>> RotateSecret();

    /// <summary>The newest attempts first, optionally only <paramref name="status"/> ones.</summary>
    Task<WebhookDelivery[]> GetDeliveries(string? status, int limit);

    /// <summary>Delivers again every matching event after <paramref name="after"/> (the endpoint's cursor moves back there).</summary>
    Task<Outcome<long>> Replay(long after);

    /// <summary>Delivers the event of one logged attempt again, now.</summary>
    Task<Outcome<bool>> Retry(string deliveryId);

    /// <summary>New events may be waiting (sent by the silo's wake-ups; coalesced).</summary>
    [OneWay, AlwaysInterleave]
    Task Poke();
}

/// <summary>The tenant's endpoint ids (for listing). Key: the tenant.</summary>
public interface IWebhookDirectoryGrain : IGrainWithStringKey
{
    Task Add(string endpointId);

    Task Remove(string endpointId);

    Task<string[]> List();
}
