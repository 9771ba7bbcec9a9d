using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Directory;

/// <summary>
/// The searchable list of a tenant's conversations (status, assignee, participants). Each conversation grain writes
/// its own row when its summary changes (never per message), so writes run in parallel across conversations and no
/// single grain holds a whole tenant's list.
/// </summary>
public interface IConversationDirectory
{
    ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default);

    /// <summary>
    /// The rows of several conversations (each at most once). A store that can write them in one statement does
    /// (<see cref="MySqlConversationDirectory"/>): the directory sink batches what is due.
    /// </summary>
    async ValueTask UpsertManyAsync(IReadOnlyList<ConversationSummary> summaries, CancellationToken cancellationToken = default)
    {
        foreach (var summary in summaries)
        {
            await UpsertAsync(summary, cancellationToken);
        }
    }

    /// <summary>
    /// In <see cref="ConversationOrder.InListOrder"/> order; a non-admin sees unassigned conversations, its own, and those it joined. The query's filters
    /// (status, assignee or unassigned only, team, inbox) combine with AND.
    /// </summary>
    ValueTask<IReadOnlyList<ConversationSummary>> ListAsync(string tenant, ConversationQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Blanks the row's personal columns (visitor name, preview, rating comment) for a contact's erasure
    /// (docs/data-protection.md); the row stays with its status, times and counts. True when a row changed. Idempotent.
    /// </summary>
    ValueTask<bool> ErasePersonalAsync(string tenant, string conversationId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} cannot erase a conversation's personal columns.");
}

public static class ConversationOrder
{
    /// <summary>
    /// The list's order: queued conversations first, the longest waiting first; then the others by last activity
    /// (last visitor or agent message, else creation), newest first; ties by id, newest first.
    /// </summary>
    public static IOrderedEnumerable<ConversationSummary> InListOrder(this IEnumerable<ConversationSummary> conversations) =>
        conversations
            .OrderByDescending(c => c.Status == ConversationStatus.Queued)
            .ThenBy(c => c.Status == ConversationStatus.Queued ? c.WaitingSince : DateTimeOffset.MinValue)
            .ThenByDescending(c => c.ActivityAt)
            .ThenByDescending(c => c.ConversationId, StringComparer.Ordinal);
}

public static class ConversationVisibility
{
    /// <summary>Whether the conversation passes the query's filters (visibility aside).</summary>
    public static bool Matches(this ConversationSummary summary, ConversationQuery query) =>
        (query.Status is null || summary.Status == query.Status)
        && (query.AssigneeId is null || summary.AssigneeId == query.AssigneeId)
        && (!query.UnassignedOnly || summary.AssigneeId is null)
        && (query.Team is null || summary.Team == query.Team)
        && (query.Inbox is null || summary.Inbox == query.Inbox);

    public static bool IsVisibleTo(this ConversationSummary summary, string agentId, bool isAdmin) =>
        isAdmin || summary.AssigneeId is null || summary.AssigneeId == agentId || summary.AgentIds.Contains(agentId);
}
