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

    Task RegisterAgent(AgentProfile profile);

    [AlwaysInterleave]
    Task<AgentProfile[]> ListAgents();

    /// <summary>A deleted agent: gone from the agent list, its teams and the dispatcher's configuration.</summary>
    Task RemoveAgent(string agentId);

    [AlwaysInterleave]
    Task UpdateAgentPresence(ParticipantPresence presence);

    /// <summary>A tenant exists once it has an agent; visitors cannot create tenants.</summary>
    [AlwaysInterleave]
    Task<bool> Exists();

    /// <summary>Creates or replaces an inbox; a new inbox gets a generated public key (an update keeps it).</summary>
    Task<Outcome<InboxConfig>> PutInbox(InboxConfig inbox);

    Task<Outcome<bool>> DeleteInbox(string inboxId);

    /// <summary>
    /// Gives the inbox a new identity secret (issue #14: widget identification); hashes made with the old one are refused
    /// from now on. An update of an inbox keeps its secret; an inbox stored before secrets existed gets one on its next
    /// update or rotation.
    /// </summary>
    Task<Outcome<InboxConfig>> RotateIdentitySecret(string inboxId);

    /// <summary>The tenant's inboxes; the <c>default</c> inbox always exists.</summary>
    [AlwaysInterleave]
    Task<InboxConfig[]> ListInboxes();

    [AlwaysInterleave]
    Task<InboxConfig?> GetInbox(string inboxId);

    Task<Outcome<TeamConfig>> PutTeam(TeamConfig team);

    Task<Outcome<bool>> DeleteTeam(string teamId);

    [AlwaysInterleave]
    Task<TeamConfig[]> ListTeams();

    Task<Outcome<CannedReply>> PutCannedReply(CannedReply reply);

    Task<Outcome<bool>> DeleteCannedReply(string id);

    [AlwaysInterleave]
    Task<CannedReply[]> ListCannedReplies();
}

[GenerateSerializer, Immutable]
public sealed record ConversationQuery(
    [property: Id(0)] string AgentId,
    [property: Id(1)] bool IsAdmin,
    [property: Id(2)] string? Status,
    [property: Id(3)] int Limit,
    [property: Id(4)] string? AssigneeId = null,
    [property: Id(5)] bool UnassignedOnly = false,
    [property: Id(6)] string? Team = null,
    [property: Id(7)] string? Inbox = null);
