using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// A tenant's directory, keyed by tenant: its agents, its conversations (status and assignee, not per-message data)
/// and which gateways hold its online agents, so new and changed conversations reach agent consoles by push.
/// </summary>
public interface ITenantGrain : IGrainWithStringKey
{
    [OneWay]
    Task ConversationChanged(ConversationSummary summary);

    [AlwaysInterleave]
    Task<ConversationSummary[]> ListConversations(ConversationQuery query);

    Task RegisterAgent(AgentProfile profile);

    [AlwaysInterleave]
    Task<AgentProfile[]> ListAgents();

    [AlwaysInterleave]
    Task UpdateAgentPresence(ParticipantPresence presence);

    /// <summary>A tenant exists once it has an agent; visitors cannot create tenants.</summary>
    [AlwaysInterleave]
    Task<bool> Exists();
}

[GenerateSerializer, Immutable]
public sealed record ConversationQuery(
    [property: Id(0)] string AgentId,
    [property: Id(1)] bool IsAdmin,
    [property: Id(2)] string? Status,
    [property: Id(3)] int Limit);
