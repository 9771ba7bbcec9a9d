using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;

namespace Kefu.Grains.Tenants;

[GenerateSerializer]
public sealed class TenantState
{
    [Id(0)] public Dictionary<string, AgentProfile> Agents { get; set; } = new(StringComparer.Ordinal);

    [Id(1)] public Dictionary<string, ConversationSummary> Conversations { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A tenant's directory. Conversation summaries arrive one-way from conversation grains when status or assignee
/// change (never per message) and are written back in the background at most once per flush interval.
/// </summary>
public sealed class TenantGrain(
    [PersistentState("tenant", KefuStorage.Name)] IPersistentState<TenantState> state,
    GatewayPusher pusher) : Grain, ITenantGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, ParticipantPresence> _onlineAgents = new(StringComparer.Ordinal);
    private bool _dirty;
    private IGrainTimer? _flushTimer;

    private string Tenant => this.GetPrimaryKeyString();

    public Task ConversationChanged(ConversationSummary summary)
    {
        state.State.Conversations[summary.ConversationId] = summary;
        MarkDirty();

        // Agents see unassigned conversations, their own, and (admins) all of them.
        var byGateway = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (key, presence) in _onlineAgents)
        {
            var agentId = AgentIdOf(key);
            if (summary.AgentIds.Contains(agentId))
            {
                continue; // Participants hear it from the conversation itself.
            }

            var visible = summary.AssigneeId is null || summary.AssigneeId == agentId || summary.AgentIds.Contains(agentId)
                || (state.State.Agents.TryGetValue(agentId, out var profile) && profile.IsAdmin);
            if (!visible)
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

    public Task<ConversationSummary[]> ListConversations(ConversationQuery query)
    {
        var result = state.State.Conversations.Values
            .Where(c => query.Status is null || c.Status == query.Status)
            .Where(c => query.IsAdmin || c.AssigneeId is null || c.AssigneeId == query.AgentId || c.AgentIds.Contains(query.AgentId))
            .OrderByDescending(c => c.CreatedAt)
            .Take(Math.Max(0, query.Limit))
            .ToArray();
        return Task.FromResult(result);
    }

    public async Task RegisterAgent(AgentProfile profile)
    {
        state.State.Agents[profile.AgentId] = profile;
        await state.WriteStateAsync();
        _dirty = false;
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

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    private void MarkDirty()
    {
        _dirty = true;
        _flushTimer ??= this.RegisterGrainTimer(
            static (self, _) => self.FlushAsync(),
            this,
            new GrainTimerCreationOptions(FlushInterval, FlushInterval) { KeepAlive = true });
    }

    private async Task FlushAsync()
    {
        if (!_dirty)
        {
            _flushTimer?.Dispose();
            _flushTimer = null;
            return;
        }

        _dirty = false;
        await state.WriteStateAsync();
    }

    private string AgentIdOf(string participantKey) =>
        participantKey[(ParticipantKeys.Key(Tenant, ParticipantRole.Agent, string.Empty).Length)..];
}
