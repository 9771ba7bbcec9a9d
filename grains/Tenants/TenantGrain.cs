using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tenants;

[GenerateSerializer]
public sealed class TenantState
{
    [Id(0)] public Dictionary<string, AgentProfile> Agents { get; set; } = new(StringComparer.Ordinal);

    [Id(1)] public Dictionary<string, InboxConfig> Inboxes { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public Dictionary<string, TeamConfig> Teams { get; set; } = new(StringComparer.Ordinal);

    [Id(3)] public Dictionary<string, CannedReply> CannedReplies { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A tenant: its agents, its configuration (inboxes, teams, canned replies), and which gateways hold its online agents
/// so that new and changed conversations reach agent consoles by push. The conversation list itself lives in the
/// conversation directory (<see cref="IConversationDirectory"/>, read through <see cref="IConversationDirectoryGrain"/>), so this grain's state stays small however
/// many conversations there are.
/// After every change of agents, teams or inboxes the whole <see cref="DispatchConfig"/> goes to the tenant's
/// dispatcher (which never calls back); a push that fails is retried by a timer until one succeeds, and every
/// activation pushes once, so the dispatcher converges on the stored configuration.
/// </summary>
public sealed partial class TenantGrain(
    [PersistentState("tenant", KefuStorage.Name)] IPersistentState<TenantState> state,
    GatewayPusher pusher,
    IOptions<BootstrapOptions> bootstrap,
    ILogger<TenantGrain> logger) : Grain, ITenantGrain
{
    private static readonly TimeSpan PushRetry = TimeSpan.FromSeconds(2);

    private readonly Dictionary<string, ParticipantPresence> _onlineAgents = new(StringComparer.Ordinal);

    // Conversations last announced without an assignee (so to every online agent): when one gets an assignee, the
    // agents who may no longer see it still hear that once, so their consoles drop "queued · unassigned".
    private readonly HashSet<string> _announcedUnassigned = new(StringComparer.Ordinal);
    private IGrainTimer? _pushRetry;

    private string Tenant => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Agents.Count > 0)
        {
            // The dispatcher may have missed the last push (a failure, a silo restart): send the stored config soon,
            // and create the default inbox of a tenant stored before inboxes existed.
            SchedulePush(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public Task ConversationChanged(ConversationSummary summary)
    {
        // Agents see unassigned conversations, their own, and (admins) all of them.
        var byGateway = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var wasUnassigned = _announcedUnassigned.Remove(summary.ConversationId);
        if (summary.AssigneeId is null && summary.Status != ConversationStatus.Resolved)
        {
            _announcedUnassigned.Add(summary.ConversationId);
        }

        foreach (var (key, presence) in _onlineAgents)
        {
            var agentId = AgentIdOf(key);
            if (summary.AgentIds.Contains(agentId))
            {
                continue; // Participants hear it from the conversation itself.
            }

            var isAdmin = state.State.Agents.TryGetValue(agentId, out var profile) && profile.IsAdmin;
            if (!summary.IsVisibleTo(agentId, isAdmin) && !wasUnassigned)
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

    public async Task RegisterAgent(AgentProfile profile)
    {
        if (!state.State.Inboxes.ContainsKey(Tenancy.DefaultInbox))
        {
            // The tenant comes to exist with its first agent, and with it the default inbox.
            await AddDefaultInboxAsync();
        }

        state.State.Agents[profile.AgentId] = profile;
        await SaveAsync();
        await PushConfigAsync();
    }

    public Task<AgentProfile[]> ListAgents() =>
        Task.FromResult(state.State.Agents.Values.OrderBy(a => a.AgentId, StringComparer.Ordinal).ToArray());

    public async Task RemoveAgent(string agentId)
    {
        var removed = state.State.Agents.Remove(agentId);
        foreach (var team in state.State.Teams.Values.Where(t => t.AgentIds.Contains(agentId)).ToArray())
        {
            state.State.Teams[team.TeamId] = team with { AgentIds = [.. team.AgentIds.Where(a => a != agentId)] };
            removed = true;
        }

        if (removed)
        {
            await SaveAsync();
            await PushConfigAsync();
        }
    }

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

    public async Task<Outcome<InboxConfig>> PutInbox(InboxConfig inbox)
    {
        await EnsureDefaultInboxAsync();
        var checkedInbox = TenantConfigRules.Inbox(inbox, state.State.Teams);
        if (checkedInbox.Error is { } error)
        {
            return error;
        }

        var accepted = checkedInbox.Value!;
        if (state.State.Inboxes.TryGetValue(accepted.InboxId, out var existing))
        {
            accepted = accepted with { PublicKey = existing.PublicKey, IdentitySecret = existing.IdentitySecret ?? VisitorIdentity.NewSecret() };
        }
        else
        {
            if (state.State.Inboxes.Count >= TenantConfigRules.MaxInboxes)
            {
                return KefuError.Invalid($"A tenant has at most {TenantConfigRules.MaxInboxes} inboxes.");
            }

            // Bound before it is stored: a stored inbox's key always resolves.
            accepted = accepted with { PublicKey = InboxKeys.New(), IdentitySecret = VisitorIdentity.NewSecret() };
            await BindAsync(accepted);
        }

        state.State.Inboxes[accepted.InboxId] = accepted;
        await SaveAsync();
        await PushConfigAsync();
        return accepted;
    }

    public async Task<Outcome<bool>> DeleteInbox(string inboxId)
    {
        if (inboxId == Tenancy.DefaultInbox)
        {
            return new KefuError(ErrorCodes.Conflict, "The default inbox cannot be deleted.");
        }

        if (!state.State.Inboxes.Remove(inboxId, out var removed))
        {
            return KefuError.NotFound("Inbox");
        }

        await SaveAsync();

        // Unbound after the inbox is gone: a key that still resolved for a moment leads to no inbox (404).
        await GrainFactory.GetGrain<IInboxKeyGrain>(removed.PublicKey).Unbind();
        await PushConfigAsync();
        return true;
    }

    public async Task<Outcome<InboxConfig>> RotateIdentitySecret(string inboxId)
    {
        await EnsureDefaultInboxAsync();
        if (!state.State.Inboxes.TryGetValue(inboxId, out var inbox))
        {
            return KefuError.NotFound("Inbox");
        }

        // The old secret stops at once: hashes made with it are refused from now on (a leaked secret is why one rotates).
        var rotated = inbox with { IdentitySecret = VisitorIdentity.NewSecret() };
        state.State.Inboxes[inboxId] = rotated;
        await SaveAsync();
        await PushConfigAsync();
        return rotated;
    }

    public Task<InboxConfig[]> ListInboxes() =>
        Task.FromResult(state.State.Inboxes.Values.OrderBy(i => i.InboxId, StringComparer.Ordinal).ToArray());

    public Task<InboxConfig?> GetInbox(string inboxId) => Task.FromResult(state.State.Inboxes.GetValueOrDefault(inboxId));

    public async Task<Outcome<TeamConfig>> PutTeam(TeamConfig team)
    {
        await EnsureDefaultInboxAsync();
        var checkedTeam = TenantConfigRules.Team(team, state.State.Agents);
        if (checkedTeam.Error is { } error)
        {
            return error;
        }

        var accepted = checkedTeam.Value!;
        if (!state.State.Teams.ContainsKey(accepted.TeamId) && state.State.Teams.Count >= TenantConfigRules.MaxTeams)
        {
            return KefuError.Invalid($"A tenant has at most {TenantConfigRules.MaxTeams} teams.");
        }

        state.State.Teams[accepted.TeamId] = accepted;
        await SaveAsync();
        await PushConfigAsync();
        return accepted;
    }

    public async Task<Outcome<bool>> DeleteTeam(string teamId)
    {
        if (!state.State.Teams.Remove(teamId))
        {
            return KefuError.NotFound("Team");
        }

        // An inbox no longer lists the team (an inbox left without teams is served by every agent).
        foreach (var inbox in state.State.Inboxes.Values.Where(i => i.Teams.Contains(teamId)).ToArray())
        {
            state.State.Inboxes[inbox.InboxId] = inbox with { Teams = [.. inbox.Teams.Where(t => t != teamId)] };
        }

        await SaveAsync();
        await PushConfigAsync();
        return true;
    }

    public Task<TeamConfig[]> ListTeams() =>
        Task.FromResult(state.State.Teams.Values.OrderBy(t => t.TeamId, StringComparer.Ordinal).ToArray());

    public async Task<Outcome<CannedReply>> PutCannedReply(CannedReply reply)
    {
        if (string.IsNullOrEmpty(reply.Id))
        {
            reply = reply with { Id = Ulid.NewUlid().ToString() };
        }

        var checkedReply = TenantConfigRules.CannedReply(reply);
        if (checkedReply.Error is { } error)
        {
            return error;
        }

        var accepted = checkedReply.Value!;
        if (state.State.CannedReplies.Values.Any(r => r.Shortcut == accepted.Shortcut && r.Id != accepted.Id))
        {
            return new KefuError(ErrorCodes.Conflict, $"The shortcut '{accepted.Shortcut}' is already used by another canned reply.");
        }

        if (!state.State.CannedReplies.ContainsKey(accepted.Id) && state.State.CannedReplies.Count >= TenantConfigRules.MaxCannedReplies)
        {
            return KefuError.Invalid($"A tenant has at most {TenantConfigRules.MaxCannedReplies} canned replies.");
        }

        state.State.CannedReplies[accepted.Id] = accepted;
        await SaveAsync();
        return accepted;
    }

    public async Task<Outcome<bool>> DeleteCannedReply(string id)
    {
        if (!state.State.CannedReplies.Remove(id))
        {
            return KefuError.NotFound("Canned reply");
        }

        await SaveAsync();
        return true;
    }

    public Task<CannedReply[]> ListCannedReplies() =>
        Task.FromResult(state.State.CannedReplies.Values.OrderBy(r => r.Shortcut, StringComparer.Ordinal).ToArray());

    /// <summary>Tenants stored before inboxes existed get their default inbox on the first change.</summary>
    private async Task EnsureDefaultInboxAsync()
    {
        if (state.State.Agents.Count == 0 || state.State.Inboxes.ContainsKey(Tenancy.DefaultInbox))
        {
            return;
        }

        await AddDefaultInboxAsync();
        await SaveAsync();
    }

    private async Task AddDefaultInboxAsync()
    {
        var key = Tenant == Tenancy.DefaultTenant && InboxKeys.IsWellFormed(bootstrap.Value.DefaultInboxKey) ? bootstrap.Value.DefaultInboxKey! : InboxKeys.New();
        var inbox = new InboxConfig(
            Tenancy.DefaultInbox, "Default", key, AssignmentPolicies.LeastBusy, null, [], null, null, null, false, VisitorIdentity.NewSecret());
        await BindAsync(inbox);
        state.State.Inboxes[inbox.InboxId] = inbox;
    }

    private Task BindAsync(InboxConfig inbox) =>
        GrainFactory.GetGrain<IInboxKeyGrain>(inbox.PublicKey).Bind(new InboxRef(Tenant, inbox.InboxId));

    /// <summary>Writes the state; if that fails, goes back to what is stored so memory never claims what is not.</summary>
    private async Task SaveAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            await state.ReadStateAsync();
            throw;
        }
    }

    // A deactivated agent is unknown to the dispatcher: nothing new is assigned or transferred to it.
    private DispatchConfig Config() => new(
        [.. state.State.Inboxes.Values],
        [.. state.State.Teams.Values],
        [.. state.State.Agents.Values.Where(a => !a.Deactivated)]);

    /// <summary>Tells the dispatcher the whole configuration; on failure a timer keeps trying (the change is stored).</summary>
    private async Task PushConfigAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IDispatcherGrain>(Tenant).Configure(Config());
            _pushRetry?.Dispose();
            _pushRetry = null;
        }
        catch (Exception ex)
        {
            LogPushFailed(logger, ex, Tenant);
            SchedulePush(PushRetry);
        }
    }

    private void SchedulePush(TimeSpan dueTime)
    {
        _pushRetry ??= this.RegisterGrainTimer(
            static async (self, _) =>
            {
                await self.EnsureDefaultInboxAsync();
                await self.PushConfigAsync();
            },
            this,
            new GrainTimerCreationOptions(dueTime, PushRetry) { KeepAlive = true });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The configuration of tenant {Tenant} could not be pushed to its dispatcher; retrying")]
    private static partial void LogPushFailed(ILogger logger, Exception exception, string tenant);

    private string AgentIdOf(string participantKey) =>
        participantKey[(ParticipantKeys.Key(Tenant, ParticipantRole.Agent, string.Empty).Length)..];
}
