namespace Kefu.Contracts.Messages;

public enum ParticipantRole
{
    Visitor = 0,
    Agent = 1,
    System = 2,
    Bot = 3,
}

[GenerateSerializer, Immutable]
public sealed record Sender(
    [property: Id(0)] ParticipantRole Role,
    [property: Id(1)] string Id,
    [property: Id(2)] string? Name);

/// <summary>
/// A stored chat message. <see cref="Seq"/> is gap-free per conversation, starting at 1. <see cref="Content"/> is the
/// typed content (null: text); <see cref="Text"/> is always set and is what a client that does not know the kind shows.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ChatMessage(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] Ulid MessageId,
    [property: Id(2)] long Seq,
    [property: Id(3)] Sender Sender,
    [property: Id(4)] string Text,
    [property: Id(5)] DateTimeOffset Ts,
    [property: Id(6)] string? ClientMsgId,
    [property: Id(7)] MessageContent? Content = null)
{
    /// <summary>The content kind: <see cref="ContentKinds.Text"/> when there is no typed content.</summary>
    public string Kind => Content?.Kind ?? ContentKinds.Text;
}

/// <summary>The answer to a send: the same for a retried clientMsgId.</summary>
[GenerateSerializer, Immutable]
public sealed record SendAck(
    [property: Id(0)] string ClientMsgId,
    [property: Id(1)] string ConversationId,
    [property: Id(2)] Ulid MessageId,
    [property: Id(3)] long Seq,
    [property: Id(4)] DateTimeOffset Ts);

public static class ConversationStatus
{
    /// <summary>Waiting in its inbox's (or team's) queue for an agent.</summary>
    public const string Queued = "queued";

    /// <summary>Assigned; holds one of the assignee's capacity slots.</summary>
    public const string Open = "open";

    /// <summary>Waiting for the visitor; keeps its assignee but not a slot. A visitor message reopens it.</summary>
    public const string Pending = "pending";

    /// <summary>Like pending, until <see cref="ConversationSummary.SnoozedUntil"/>, when a reminder reopens it.</summary>
    public const string Snoozed = "snoozed";

    public const string Resolved = "resolved";

    public static readonly string[] All = [Queued, Open, Pending, Snoozed, Resolved];

    public static bool IsKnown(string? value) => value is Queued or Open or Pending or Snoozed or Resolved;
}

[GenerateSerializer, Immutable]
public sealed record ConversationSummary(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Tenant,
    [property: Id(2)] string Inbox,
    [property: Id(3)] string VisitorId,
    [property: Id(4)] string? VisitorName,
    [property: Id(5)] string Status,
    [property: Id(6)] string? AssigneeId,
    [property: Id(7)] long LastSeq,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] string[] AgentIds,
    [property: Id(10)] string? Team = null,
    [property: Id(11)] string Priority = ConversationPriority.Normal,
    [property: Id(12)] string[]? Tags = null,
    [property: Id(13)] int? QueuePosition = null,
    [property: Id(14)] DateTimeOffset? SnoozedUntil = null,
    [property: Id(15)] DateTimeOffset? FirstResponseAt = null,
    [property: Id(16)] DateTimeOffset? ResolvedAt = null,
    [property: Id(17)] CsatRating? Csat = null,
    [property: Id(18)] Dictionary<string, long>? ReadMarks = null,
    [property: Id(19)] string? Preview = null,
    [property: Id(20)] DateTimeOffset? LastActivityAt = null,
    [property: Id(21)] int Unread = 0,
    [property: Id(22)] string? AssigneeName = null,
    [property: Id(23)] DateTimeOffset? QueuedAt = null)
{
    /// <summary>When the last visitor or agent message was written, else the creation time: the list's order.</summary>
    public DateTimeOffset ActivityAt => LastActivityAt ?? CreatedAt;

    /// <summary>Since when a queued conversation has been waiting (the queue's order).</summary>
    public DateTimeOffset WaitingSince => QueuedAt ?? CreatedAt;

    /// <summary>Seconds from creation to the first agent message, once there is one.</summary>
    public double? FirstResponseSeconds => FirstResponseAt is { } at ? (at - CreatedAt).TotalSeconds : null;

    /// <summary>Seconds from creation to the (latest) resolution.</summary>
    public double? ResolutionSeconds => ResolvedAt is { } at ? (at - CreatedAt).TotalSeconds : null;

    /// <summary>Messages after the participant's read mark (participant key "tenant/role/id").</summary>
    public long UnreadFor(string participantKey) => Math.Max(0, LastSeq - (ReadMarks?.GetValueOrDefault(participantKey) ?? 0));
}

[GenerateSerializer, Immutable]
public sealed record MessagePage(
    [property: Id(0)] ChatMessage[] Messages,
    [property: Id(1)] long LastSeq);

[GenerateSerializer, Immutable]
public sealed record JoinResult(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] long LastSeq);
