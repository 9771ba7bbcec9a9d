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

    /// <summary>Newest first; a non-admin sees unassigned conversations, its own, and those it joined.</summary>
    ValueTask<IReadOnlyList<ConversationSummary>> ListAsync(string tenant, ConversationQuery query, CancellationToken cancellationToken = default);
}

public static class ConversationVisibility
{
    public static bool IsVisibleTo(this ConversationSummary summary, string agentId, bool isAdmin) =>
        isAdmin || summary.AssigneeId is null || summary.AssigneeId == agentId || summary.AgentIds.Contains(agentId);
}
