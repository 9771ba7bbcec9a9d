using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>What of a conversation's lifecycle an integration sees change (the rest of the state is bookkeeping).</summary>
internal sealed record LifecycleFacts(
    string Status,
    string? AssigneeId,
    string[] AgentIds,
    string? Team,
    string[] Tags,
    string Priority,
    DateTimeOffset? SnoozedUntil,
    CsatRating? Csat)
{
    public static LifecycleFacts Of(ConversationState s) =>
        new(s.Status, s.AssigneeId, [.. s.Agents.Keys], s.Team, [.. s.Tags], s.Priority, s.SnoozedUntil, s.Csat);
}

/// <summary>
/// The events of one lifecycle change, derived from the facts before and after it, so every durable change yields
/// its events and nothing else does (a change that changed nothing has none). The operation adds what the facts
/// cannot tell (created, transferred, rated, note). Order within a change: those first, then status, assignment,
/// and one <c>conversation.updated</c> naming what else changed.
/// </summary>
internal static class LifecycleEvents
{
    public const string Tags = "tags";
    public const string Priority = "priority";
    public const string Agents = "agents";
    public const string SnoozedUntil = "snoozedUntil";

    /// <param name="cause">Who made the change.</param>
    /// <param name="assignmentCause">Who chose the assignee when it is not <paramref name="cause"/> (the dispatcher).</param>
    /// <param name="stated">The operation's own events, first in the change.</param>
    public static List<(EventData Data, Causation Cause)> Between(
        LifecycleFacts before,
        LifecycleFacts after,
        ConversationSummary summary,
        Causation cause,
        Causation? assignmentCause = null,
        params EventData[] stated)
    {
        var events = new List<(EventData, Causation)>(stated.Length + 2);
        foreach (var data in stated)
        {
            events.Add((data, cause));
        }

        if (before.Status != after.Status)
        {
            events.Add((new ConversationStatusChanged(before.Status, after.Status, summary), cause));
        }

        var assigned = after.AssigneeId is { } assignee && after.Status == ConversationStatus.Open
            && (assignee != before.AssigneeId || before.Status != ConversationStatus.Open);
        if (assigned)
        {
            events.Add((new ConversationAssigned(after.AssigneeId!, summary.AssigneeName, before.AssigneeId, summary), assignmentCause ?? cause));
        }

        var changed = new List<string>(2);
        if (!before.Tags.AsSpan().SequenceEqual(after.Tags))
        {
            changed.Add(Tags);
        }

        if (before.Priority != after.Priority)
        {
            changed.Add(Priority);
        }

        var transferred = stated.Any(e => e is ConversationTransferred);
        var joined = after.AgentIds.Except(before.AgentIds, StringComparer.Ordinal).Any(a => !(assigned && a == after.AssigneeId));
        var left = !transferred && before.AgentIds.Except(after.AgentIds, StringComparer.Ordinal).Any();
        if (joined || left)
        {
            changed.Add(Agents);
        }

        if (before.Status == ConversationStatus.Snoozed && after.Status == ConversationStatus.Snoozed && before.SnoozedUntil != after.SnoozedUntil)
        {
            changed.Add(SnoozedUntil);
        }

        if (changed.Count > 0)
        {
            events.Add((new ConversationUpdated([.. changed], summary), cause));
        }

        return events;
    }
}
