using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Events;

/// <summary>
/// Something that happened, committed in the same write as the change it describes (docs/architecture.md, "Events").
/// <see cref="Seq"/> is the conversation's event sequence: it starts at 1 and grows by one with every event of the
/// conversation (messages included), so a consumer can drop anything not newer than what it has. <see cref="Type"/>
/// follows from <see cref="Data"/>. The public JSON form is the envelope of ../shared/INTEGRATION.md §2.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record DomainEvent(
    [property: Id(0)] Ulid Id,
    [property: Id(1)] string Tenant,
    [property: Id(2)] string? ConversationId,
    [property: Id(3)] long Seq,
    [property: Id(4)] DateTimeOffset Time,
    [property: Id(5)] Causation Causation,
    [property: Id(6)] EventData Data)
{
    public string Type => Data.Type;
}

/// <summary>Who or what caused an event: for audit, and so rules and integrations can avoid reacting to themselves.</summary>
/// <remarks>
/// <see cref="Depth"/> counts how many routing rules stand between a person or system and this event: 0 for anything
/// not caused by a rule; an event a rule caused while handling an event of depth d has d + 1. Rules do not react to
/// events of depth <c>RoutingLimits.MaxDepth</c> or more, so two rules that trigger each other stop (issue #15).
/// <see cref="TriggerEventId"/> is the event a rule was handling when it caused this one.
/// </remarks>
[GenerateSerializer, Immutable]
public sealed record Causation(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Id,
    [property: Id(2)] string? Name = null,
    [property: Id(3)] int Depth = 0,
    [property: Id(4)] string? TriggerEventId = null)
{
    public const string Visitor = "visitor";
    public const string Agent = "agent";
    public const string System = "system";
    public const string Rule = "rule";
    public const string ApiKey = "api_key";
    public const string Bot = "bot";

    /// <summary>The server itself (the dispatcher, a reminder, the away message), naming the part that acted.</summary>
    public static Causation Of(string systemPart) => new(System, systemPart);

    /// <summary>A routing rule (route <paramref name="routeId"/>) acting on <paramref name="trigger"/>'s behalf: one level deeper.</summary>
    public static Causation OfRule(string routeId, string triggerEventId, int triggerDepth) =>
        new(Rule, routeId, Name: null, Depth: triggerDepth + 1, TriggerEventId: triggerEventId);

    /// <summary>The caller's own cause when it acts for a rule (<see cref="Caller.Cause"/>), else who the caller is.</summary>
    public static Causation Of(Caller caller) => caller.Cause ?? OfCallerIdentity(caller);

    private static Causation OfCallerIdentity(Caller caller) => caller.KeyId is { } key ? new(ApiKey, key, caller.Name) : new(caller.Role switch
    {
        ParticipantRole.Visitor => Visitor,
        ParticipantRole.Agent => Agent,
        ParticipantRole.Bot => Bot,
        _ => System,
    }, caller.Id, caller.Name);
}

/// <summary>The public event type names (INTEGRATION.md §2). New types are added here and get a data record below.</summary>
public static class EventTypes
{
    public const string ConversationCreated = "conversation.created";
    public const string ConversationUpdated = "conversation.updated";
    public const string ConversationStatusChanged = "conversation.status_changed";
    public const string ConversationAssigned = "conversation.assigned";
    public const string ConversationTransferred = "conversation.transferred";
    public const string ConversationRated = "conversation.rated";
    public const string MessageCreated = "message.created";
    public const string NoteCreated = "note.created";
    public const string ContactCreated = "contact.created";
    public const string ContactUpdated = "contact.updated";
    public const string InboundReceived = "inbound.received";
    public const string WebhookEndpointDisabled = "webhook.endpoint_disabled";
    public const string RouteExecuted = "route.executed";
    public const string CrmSyncFailed = "crm.sync_failed";
    public const string EmailSent = "email.sent";
    public const string EmailFailed = "email.failed";

    /// <summary>A plugin's <c>emit</c> action (docs/plugins.md): tenant-level, the conversation (if any) in the data.</summary>
    public const string PluginEmitted = "plugin.emitted";

    /// <summary>A contact's personal data was erased (docs/data-protection.md): the audit record, itself without personal data.</summary>
    public const string ContactErased = "contact.erased";

    /// <summary>Events a routing rule emits (<c>emit</c> action) have a type with this prefix, e.g. <c>custom.vip_order</c>.</summary>
    public const string CustomPrefix = "custom.";

    public static readonly string[] All =
    [
        ConversationCreated, ConversationUpdated, ConversationStatusChanged, ConversationAssigned,
        ConversationTransferred, ConversationRated, MessageCreated, NoteCreated, ContactCreated, ContactUpdated,
        InboundReceived, WebhookEndpointDisabled, RouteExecuted, CrmSyncFailed, EmailSent, EmailFailed, PluginEmitted,
        ContactErased,
    ];

    public static bool IsKnown(string? type) => type is not null && (Array.IndexOf(All, type) >= 0 || IsCustom(type));

    /// <summary>A rule-emitted type: the prefix and 1–64 more characters of [a-z0-9_.-].</summary>
    public static bool IsCustom(string? type) =>
        type is not null && type.Length > CustomPrefix.Length && type.Length <= CustomPrefix.Length + 64
        && type.StartsWith(CustomPrefix, StringComparison.Ordinal)
        && type.AsSpan(CustomPrefix.Length).IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyz0123456789_.-") < 0;

    /// <summary>Internal notes go only to consumers that ask for them by name (INTEGRATION.md §2).</summary>
    public static bool IsExplicitOnly(string type) => type == NoteCreated;
}

/// <summary>An event's payload; each type has one record.</summary>
[GenerateSerializer, Immutable]
public abstract record EventData
{
    public abstract string Type { get; }
}

[GenerateSerializer, Immutable]
public sealed record MessageCreated([property: Id(0)] ChatMessage Message) : EventData
{
    public override string Type => EventTypes.MessageCreated;
}

/// <summary>The conversation as it is right after the change (in every conversation.* event).</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationCreated([property: Id(0)] ConversationSummary Conversation) : EventData
{
    public override string Type => EventTypes.ConversationCreated;
}

[GenerateSerializer, Immutable]
public sealed record ConversationStatusChanged(
    [property: Id(0)] string From,
    [property: Id(1)] string To,
    [property: Id(2)] ConversationSummary Conversation) : EventData
{
    public override string Type => EventTypes.ConversationStatusChanged;
}

/// <summary>An agent now holds the conversation (by the dispatcher, a join, a claim or a transfer to an agent).</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationAssigned(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string? AgentName,
    [property: Id(2)] string? PreviousAgentId,
    [property: Id(3)] ConversationSummary Conversation) : EventData
{
    public override string Type => EventTypes.ConversationAssigned;
}

/// <summary>Handed on to an agent or to a team's queue (followed by an assigned event when an agent gets it).</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationTransferred(
    [property: Id(0)] string? FromAgentId,
    [property: Id(1)] string? ToAgentId,
    [property: Id(2)] string? ToTeam,
    [property: Id(3)] ConversationSummary Conversation) : EventData
{
    public override string Type => EventTypes.ConversationTransferred;
}

/// <summary>Tags and/or priority changed; <see cref="Changed"/> names which ("tags", "priority").</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationUpdated(
    [property: Id(0)] string[] Changed,
    [property: Id(1)] ConversationSummary Conversation) : EventData
{
    public override string Type => EventTypes.ConversationUpdated;
}

[GenerateSerializer, Immutable]
public sealed record ConversationRated(
    [property: Id(0)] CsatRating Rating,
    [property: Id(1)] ConversationSummary Conversation) : EventData
{
    public override string Type => EventTypes.ConversationRated;
}

[GenerateSerializer, Immutable]
public sealed record NoteCreated([property: Id(0)] InternalNote Note) : EventData
{
    public override string Type => EventTypes.NoteCreated;
}

/// <summary>A contact (a visitor the business knows, issue #14) was created or changed.</summary>
[GenerateSerializer, Immutable]
public sealed record ContactChanged(
    [property: Id(0)] bool Created,
    [property: Id(1)] string ContactId,
    [property: Id(2)] string? ExternalId,
    [property: Id(3)] string? Name,
    [property: Id(4)] string? Email,
    [property: Id(5)] Dictionary<string, string>? Attributes) : EventData
{
    public override string Type => Created ? EventTypes.ContactCreated : EventTypes.ContactUpdated;
}

/// <summary>
/// A business event accepted from outside (INTEGRATION.md §3: <c>POST /api/v1/webhook</c>, later Kafka and gRPC), recorded
/// whether or not a routing rule acts on it. Not a conversation's event (no envelope conversationId/seq: the
/// conversation grain did not number it); <see cref="ConversationId"/> names the conversation it addressed, if any. <see cref="SourceId"/> is the sender's own event id, <see cref="InboundType"/>
/// its <c>type</c>, <see cref="DataJson"/> its <c>data</c> object as JSON text (copied into the envelope as is).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InboundReceived(
    [property: Id(0)] string SourceId,
    [property: Id(1)] string InboundType,
    [property: Id(2)] string? ContactId,
    [property: Id(3)] string? ExternalId,
    [property: Id(4)] string DataJson,
    [property: Id(5)] string? ConversationId = null,
    [property: Id(6)] DateTimeOffset? Deadline = null) : EventData
{
    public override string Type => EventTypes.InboundReceived;
}

/// <summary>
/// One execution of a routing route for one event (issue #15, docs/routing.md): which ruleset (its hash), which route, the
/// outcome (<see cref="RouteOutcomes"/>), each step as it went, and the time it took and had left. The conversation's id
/// (if the triggering event had one) is named in <see cref="ConversationId"/>; the event is tenant-level (no seq).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RouteExecuted(
    [property: Id(0)] string TriggerEventId,
    [property: Id(1)] string TriggerType,
    [property: Id(2)] string RulesetHash,
    [property: Id(3)] string RouteId,
    [property: Id(4)] string Outcome,
    [property: Id(5)] RouteStepRecord[] Steps,
    [property: Id(6)] long ElapsedMs,
    [property: Id(7)] long BudgetLeftMs,
    [property: Id(8)] string? ConversationId,
    [property: Id(9)] string? Error = null) : EventData
{
    public override string Type => EventTypes.RouteExecuted;
}

/// <summary>One step of a route execution: its action kind (<c>call</c>, <c>reply_template</c>, …), a short target
/// (e.g. <c>ERP::updateOrder</c>), outcome (<see cref="RouteOutcomes"/>), attempts made and milliseconds spent; a
/// <c>plugin</c> step also the fuel its call used (and its error code in <see cref="Error"/> when it failed).</summary>
[GenerateSerializer, Immutable]
public sealed record RouteStepRecord(
    [property: Id(0)] int Index,
    [property: Id(1)] string Action,
    [property: Id(2)] string? Target,
    [property: Id(3)] string Outcome,
    [property: Id(4)] int Attempts,
    [property: Id(5)] long ElapsedMs,
    [property: Id(6)] string? Error = null,
    [property: Id(7)] int? HttpStatus = null,
    [property: Id(8)] long? Fuel = null);

/// <summary>Outcomes of a route and of its steps.</summary>
public static class RouteOutcomes
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";

    /// <summary>A step not run because an earlier one failed (or the budget was gone before it started).</summary>
    public const string Skipped = "skipped";

    /// <summary>The step failed but its <c>on_error: continue</c> let the route go on.</summary>
    public const string FailedContinued = "failed_continued";

    /// <summary>A plugin step's <c>drop</c> stopped the route on purpose: not a failure (docs/plugins.md).</summary>
    public const string Dropped = "dropped";
}

/// <summary>An event a routing rule emitted (<c>emit</c>): its type starts with <see cref="EventTypes.CustomPrefix"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record CustomEvent(
    [property: Id(0)] string CustomType,
    [property: Id(1)] string DataJson,
    [property: Id(2)] string? ConversationId = null) : EventData
{
    public override string Type => CustomType;
}

/// <summary>
/// A plugin asked for an event (its <c>emit</c> action, at a routing step or after a message; docs/plugins.md). Tenant-level
/// (no envelope seq); <see cref="DataJson"/> is the plugin's <c>data</c> object as JSON text.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PluginEmitted(
    [property: Id(0)] string Plugin,
    [property: Id(1)] string Name,
    [property: Id(2)] string DataJson,
    [property: Id(3)] string? ConversationId = null) : EventData
{
    public override string Type => EventTypes.PluginEmitted;
}

/// <summary>An outbound webhook endpoint was disabled (a <c>410</c> answer, or failing for too long): nothing is dropped silently.</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookEndpointDisabled(
    [property: Id(0)] string EndpointId,
    [property: Id(1)] string Url,
    [property: Id(2)] string Reason) : EventData
{
    public override string Type => EventTypes.WebhookEndpointDisabled;
}

/// <summary>
/// A record was given up on: its CRM would not take it within the retry limits (docs/crm.md). Nothing local is lost; a
/// retry (API or console) starts it again.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CrmSyncFailed(
    [property: Id(0)] string Crm,
    [property: Id(1)] string Kind,
    [property: Id(2)] string RecordId,
    [property: Id(3)] int Attempts,
    [property: Id(4)] string? Error,
    [property: Id(5)] int? HttpStatus,
    [property: Id(6)] DateTimeOffset? FailingSince) : EventData
{
    public override string Type => EventTypes.CrmSyncFailed;
}

/// <summary>
/// A mail was accepted by the SMTP server (issue #18, docs/email.md). Tenant-level (no envelope seq); the conversation it
/// is about is <see cref="ConversationId"/>. <see cref="Kind"/>: offline_reply, transcript or agent_notification.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EmailSent(
    [property: Id(0)] string? ConversationId,
    [property: Id(1)] string MailId,
    [property: Id(2)] string Kind,
    [property: Id(3)] string To,
    [property: Id(4)] string Subject) : EventData
{
    public override string Type => EventTypes.EmailSent;
}

/// <summary>
/// A mail was given up on: refused for good (5xx), out of retries, or bounced after it was sent (<see cref="Bounced"/>).
/// The error is the server's answer or the bounce's reason, never a message body or a credential.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EmailFailed(
    [property: Id(0)] string? ConversationId,
    [property: Id(1)] string MailId,
    [property: Id(2)] string Kind,
    [property: Id(3)] string To,
    [property: Id(4)] string? Error,
    [property: Id(5)] bool Bounced,
    [property: Id(6)] int Attempts) : EventData
{
    public override string Type => EventTypes.EmailFailed;
}

/// <summary>
/// The audit record of an erasure (docs/data-protection.md): which contact, when it was asked for and how many records
/// each store changed. Who asked is the envelope's causation. No name, email, external id or text: it outlives them.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ContactErased(
    [property: Id(0)] string ContactId,
    [property: Id(1)] DateTimeOffset RequestedAt,
    [property: Id(2)] Dictionary<string, long> Erased) : EventData
{
    public override string Type => EventTypes.ContactErased;
}

/// <summary>An event as stored in the outbox: its per-tenant <see cref="Cursor"/> and its data as JSON (the public form).</summary>
[GenerateSerializer, Immutable]
public sealed record StoredEvent(
    [property: Id(0)] long Cursor,
    [property: Id(1)] Ulid Id,
    [property: Id(2)] string Type,
    [property: Id(3)] string Tenant,
    [property: Id(4)] string? ConversationId,
    [property: Id(5)] long Seq,
    [property: Id(6)] DateTimeOffset Time,
    [property: Id(7)] Causation Causation,
    [property: Id(8)] string DataJson);

/// <summary>
/// One page of the events API. <see cref="Next"/> is the cursor to continue after (the last event examined, which
/// may be past the last one returned when a type filter skipped some). <see cref="CursorExpired"/>: events after
/// the asked cursor were pruned by retention, so the consumer has missed some.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EventPage(
    [property: Id(0)] StoredEvent[] Events,
    [property: Id(1)] long Next,
    [property: Id(2)] bool CursorExpired = false);

/// <summary>The opaque public cursor: 16 lower-case hex digits of a positive 64-bit number, so it also sorts as text.</summary>
public static class EventCursor
{
    public const int Length = 16;

    public static string Format(long cursor) => cursor.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out long cursor)
    {
        cursor = 0;
        return text is { Length: Length }
            && text.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f')
            && long.TryParse(text, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out cursor)
            && cursor >= 0;
    }
}
