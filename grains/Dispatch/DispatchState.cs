using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Dispatch;

/// <summary>
/// What the dispatcher must not forget: the configuration, who waits where, who holds which conversation and which
/// assignments the conversations have not confirmed yet. Agent statuses are not here: they are only as good as the
/// last heartbeat, so they live in memory and are re-reported within seconds after an activation.
/// </summary>
[GenerateSerializer]
public sealed class DispatchState
{
    [Id(0)] public DispatchConfig? Config { get; set; }

    /// <summary>Waiting conversations by id; the queue a request is in follows from its team (or inbox).</summary>
    [Id(1)] public Dictionary<string, QueueRequest> Waiting { get; set; } = [];

    /// <summary>Open (slot-holding) conversations by id; per-agent and per-inbox sets are derived from it.</summary>
    [Id(2)] public Dictionary<string, OpenAssignment> Open { get; set; } = [];

    /// <summary>Conversation id → agent id of assignments re-sent until the conversation confirms them.</summary>
    [Id(3)] public Dictionary<string, string> Unconfirmed { get; set; } = [];

    /// <summary>Queue key → the agent id last given a conversation from that queue by round robin.</summary>
    [Id(4)] public Dictionary<string, string> RoundRobinCursors { get; set; } = [];

    /// <summary>Agent id → when it was last given a conversation (least_busy's tie-break).</summary>
    [Id(5)] public Dictionary<string, DateTimeOffset> LastAssignedAt { get; set; } = [];
}

[GenerateSerializer, Immutable]
public sealed record OpenAssignment(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string Inbox);

/// <summary>Service order: higher priority first, then FIFO by arrival, then conversation id (a total order).</summary>
public sealed class WaitingOrder : IComparer<QueueRequest>
{
    public static readonly WaitingOrder Instance = new();

    public int Compare(QueueRequest? x, QueueRequest? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? -1 : 1;
        }

        var byRank = ConversationPriority.Rank(y.Priority).CompareTo(ConversationPriority.Rank(x.Priority));
        if (byRank != 0)
        {
            return byRank;
        }

        var byTime = x.EnqueuedAt.CompareTo(y.EnqueuedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(x.ConversationId, y.ConversationId);
    }
}
