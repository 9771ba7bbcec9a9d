using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Participants;

/// <summary>
/// Keeps agents' rosters (<see cref="AgentRoster"/>) in step with their conversations: after a commit, the agents of a
/// conversation that was resolved, or that a transfer let go, hear that it is inactive for them; the agents of one
/// that is open, pending, snoozed or queued again, or that was assigned to them, hear that it is active. One-way calls,
/// so the conversation's turn never waits on an agent.
/// </summary>
public sealed partial class AgentRosterSink(IGrainFactory grains, ILogger<AgentRosterSink> logger) : IConversationEventSink
{
    public void OnCommitted(CommittedChange change)
    {
        try
        {
            foreach (var update in Updates(change))
            {
                var agent = grains.GetGrain<IAgentGrain>(Tenancy.Key(change.Tenant, update.AgentId));
                (update.Active
                    ? agent.ConversationActive(change.ConversationId, update.Seq)
                    : agent.ConversationInactive(change.ConversationId, update.Seq)).Ignore();
            }
        }
        catch (Exception ex)
        {
            // A sink never throws into the conversation's turn; an agent keeps its roster as it was (see AgentRoster).
            LogUpdateFailed(logger, ex, change.ConversationId);
        }
    }

    /// <summary>What the change means for the rosters of the agents it concerns, in event order.</summary>
    public static IEnumerable<RosterUpdate> Updates(CommittedChange change)
    {
        foreach (var e in change.Events)
        {
            switch (e.Data)
            {
                case ConversationStatusChanged status:
                    var active = status.To != ConversationStatus.Resolved;
                    foreach (var agentId in status.Conversation.AgentIds)
                    {
                        yield return new RosterUpdate(agentId, active, e.Seq);
                    }

                    break;

                case ConversationAssigned assigned:
                    yield return new RosterUpdate(assigned.AgentId, assigned.Conversation.Status != ConversationStatus.Resolved, e.Seq);
                    break;

                case ConversationTransferred transferred:
                    var participants = transferred.Conversation.AgentIds;

                    // Handing it on is letting go: whoever it was taken from, and the agent who handed it on, unless
                    // still a participant (an admin keeps access; naming oneself is taking it).
                    string?[] released = [transferred.FromAgentId, e.Causation.Kind == Causation.Agent ? e.Causation.Id : null];
                    foreach (var agentId in released.OfType<string>().Distinct(StringComparer.Ordinal))
                    {
                        if (!participants.Contains(agentId))
                        {
                            yield return new RosterUpdate(agentId, false, e.Seq);
                        }
                    }

                    if (transferred.ToAgentId is { } to && participants.Contains(to))
                    {
                        yield return new RosterUpdate(to, transferred.Conversation.Status != ConversationStatus.Resolved, e.Seq);
                    }

                    break;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: its agents' rosters could not be updated")]
    private static partial void LogUpdateFailed(ILogger logger, Exception exception, string conversationId);
}

/// <summary>One agent's roster change for the conversation of a committed change.</summary>
public readonly record struct RosterUpdate(string AgentId, bool Active, long Seq);
