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

    [Id(4)] public string Status { get; set; } = Contracts.Messages.ConversationStatus.Open;

    [Id(5)] public string? AssigneeId { get; set; }

    /// <summary>Agents who joined, by agent id.</summary>
    [Id(6)] public Dictionary<string, ConversationAgent> Agents { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Last seq read, by participant key.</summary>
    [Id(7)] public Dictionary<string, long> ReadMarks { get; set; } = new(StringComparer.Ordinal);

    [Id(8)] public DateTimeOffset CreatedAt { get; set; }
}

[GenerateSerializer, Immutable]
public sealed record ConversationAgent([property: Id(0)] string? Name, [property: Id(1)] bool IsAdmin);
