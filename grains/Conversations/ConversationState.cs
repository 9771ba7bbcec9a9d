using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>
/// What a conversation persists as grain state. Messages, the last seq and the clientMsgIds of recent sends live in
/// the message store (the one source of truth for them), so a crash between the two writes can never leave seq or
/// the idempotency window behind the messages.
/// </summary>
[GenerateSerializer]
public sealed class ConversationState
{
    [Id(0)] public bool Created { get; set; }

    [Id(1)] public string Inbox { get; set; } = string.Empty;

    [Id(2)] public string VisitorId { get; set; } = string.Empty;

    [Id(3)] public string? VisitorName { get; set; }

    [Id(4)] public string Status { get; set; } = ConversationStatus.Queued;

    /// <summary>The agent holding it (open), or who held it last (pending, snoozed, resolved); null while queued.</summary>
    [Id(5)] public string? AssigneeId { get; set; }

    /// <summary>Agents who joined or were assigned, by agent id.</summary>
    [Id(6)] public Dictionary<string, ConversationAgent> Agents { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Last seq read, by participant key.</summary>
    [Id(7)] public Dictionary<string, long> ReadMarks { get; set; } = new(StringComparer.Ordinal);

    [Id(8)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The team whose queue it waits in (after a transfer to a team); null for the inbox's queue.</summary>
    [Id(9)] public string? Team { get; set; }

    [Id(10)] public string Priority { get; set; } = ConversationPriority.Normal;

    [Id(11)] public string[] Tags { get; set; } = [];

    /// <summary>While queued: the last position the dispatcher reported (1 = next).</summary>
    [Id(12)] public int? QueuePosition { get; set; }

    /// <summary>When it last entered a queue: keeps its place in FIFO order when its priority changes.</summary>
    [Id(13)] public DateTimeOffset? QueuedAt { get; set; }

    [Id(14)] public DateTimeOffset? SnoozedUntil { get; set; }

    [Id(15)] public DateTimeOffset? FirstResponseAt { get; set; }

    [Id(16)] public DateTimeOffset? ResolvedAt { get; set; }

    [Id(17)] public CsatRating? Csat { get; set; }

    /// <summary>Resolved and not yet rated since that resolution: the visitor may rate once.</summary>
    [Id(18)] public bool MayRate { get; set; }

    /// <summary>Agent-only notes, oldest first.</summary>
    [Id(19)] public List<InternalNote> Notes { get; set; } = [];

    /// <summary>The inbox was unavailable when the conversation was queued: the away message is still to be sent.</summary>
    [Id(20)] public bool AwayMessageDue { get; set; }

    /// <summary>The away message was sent (it is sent once per conversation).</summary>
    [Id(21)] public bool AwayMessageSent { get; set; }

    /// <summary>
    /// Lifecycle events written with this state and not yet relayed to the event log, oldest first: relayed before
    /// anything newer (docs/architecture.md, "Events").
    /// </summary>
    [Id(22)] public List<Contracts.Events.DomainEvent> PendingEvents { get; set; } = [];

    /// <summary>The conversation's last event seq when this state was written.</summary>
    [Id(23)] public long LastEventSeq { get; set; }

    /// <summary>The last message seq when this state was written: every later message is one event more.</summary>
    [Id(24)] public long MessageSeqAtWrite { get; set; }
}

[GenerateSerializer, Immutable]
public sealed record ConversationAgent([property: Id(0)] string? Name, [property: Id(1)] bool IsAdmin);
