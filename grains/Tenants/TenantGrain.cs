using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;

namespace Kefu.Grains.Tenants;

[GenerateSerializer]
public sealed class TenantState
{
    [Id(0)] public Dictionary<string, AgentProfile> Agents { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A tenant: its agents, and which gateways hold its online agents so that new and changed conversations reach
/// agent consoles by push. The conversation list itself lives in the <see cref="IConversationDirectory"/>, written
/// by each conversation grain, so this grain's state stays small however many conversations there are.
/// </summary>
public sealed class TenantGrain(
    [PersistentState("tenant", KefuStorage.Name)] IPersistentState<TenantState> state,
    IConversationDirectory directory,
    GatewayPusher pusher) : Grain, ITenantGrain
{
    private readonly Dictionary<string, ParticipantPresence> _onlineAgents = new(StringComparer.Ordinal);

    private string Tenant => this.GetPrimaryKeyString();

    public Task ConversationChanged(ConversationSummary summary)
    {
        // Agents see unassigned conversations, their own, and (admins) all of them.
        var byGateway = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (key, presence) in _onlineAgents)
        {
            var agentId = AgentIdOf(key);
            if (summary.AgentIds.Contains(agentId))
            {
                continue; // Participants hear it from the conversation itself.
            }

            var isAdmin = state.State.Agents.TryGetValue(agentId, out var profile) && profile.IsAdmin;
            if (!summary.IsVisibleTo(agentId, isAdmin))
            {
                continue;
            }

            foreach (var gateway in presence.Gateways)
            {
                if (!byGateway.TryGetValue(gateway, out var recipients))
                {
                    byGateway[gateway] = recipients = [];
                }

                recipients.Add(key);
            }
        }

        var @event = new ConversationEvent(summary);
        foreach (var (gateway, recipients) in byGateway)
        {
            pusher.Push(gateway, new PushEnvelope([.. recipients], null, @event));
        }

        return Task.CompletedTask;
    }

    public async Task<ConversationSummary[]> ListConversations(ConversationQuery query) =>
        [.. await directory.ListAsync(Tenant, query)];

    public async Task RegisterAgent(AgentProfile profile)
    {
        state.State.Agents[profile.AgentId] = profile;
        await state.WriteStateAsync();
    }

    public Task<AgentProfile[]> ListAgents() =>
        Task.FromResult(state.State.Agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal).ToArray());

    public Task<bool> Exists() => Task.FromResult(state.State.Agents.Count > 0);

    public Task UpdateAgentPresence(ParticipantPresence presence)
    {
        if (_onlineAgents.TryGetValue(presence.ParticipantKey, out var known) && known.Version >= presence.Version)
        {
            return Task.CompletedTask;
        }

        if (presence.IsOnline)
        {
            _onlineAgents[presence.ParticipantKey] = presence;
        }
        else
        {
            _onlineAgents.Remove(presence.ParticipantKey);
        }

        return Task.CompletedTask;
    }

    public Task<Outcome<InboxConfig>> PutInbox(InboxConfig inbox) => throw new NotImplementedException();

    public Task<Outcome<bool>> DeleteInbox(string inboxId) => throw new NotImplementedException();

    public Task<InboxConfig[]> ListInboxes() => throw new NotImplementedException();

    public Task<InboxConfig?> GetInbox(string inboxId) => throw new NotImplementedException();

    public Task<Outcome<TeamConfig>> PutTeam(TeamConfig team) => throw new NotImplementedException();

    public Task<Outcome<bool>> DeleteTeam(string teamId) => throw new NotImplementedException();

    public Task<TeamConfig[]> ListTeams() => throw new NotImplementedException();

    public Task<Outcome<CannedReply>> PutCannedReply(CannedReply reply) => throw new NotImplementedException();

    public Task<Outcome<bool>> DeleteCannedReply(string id) => throw new NotImplementedException();

    public Task<CannedReply[]> ListCannedReplies() => throw new NotImplementedException();

    private string AgentIdOf(string participantKey) =>
        participantKey[(ParticipantKeys.Key(Tenant, ParticipantRole.Agent, string.Empty).Length)..];
}
