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

/// <summary>A stored chat message. <see cref="Seq"/> is gap-free per conversation, starting at 1.</summary>
[GenerateSerializer, Immutable]
public sealed record ChatMessage(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] Ulid MessageId,
    [property: Id(2)] long Seq,
    [property: Id(3)] Sender Sender,
    [property: Id(4)] string Text,
    [property: Id(5)] DateTimeOffset Ts,
    [property: Id(6)] string? ClientMsgId);

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
    public const string Open = "open";
    public const string Resolved = "resolved";
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
    [property: Id(9)] string[] AgentIds);

[GenerateSerializer, Immutable]
public sealed record MessagePage(
    [property: Id(0)] ChatMessage[] Messages,
    [property: Id(1)] long LastSeq);

[GenerateSerializer, Immutable]
public sealed record JoinResult(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] long LastSeq);
