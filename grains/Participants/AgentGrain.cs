using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Participants;

[GenerateSerializer]
public sealed class AgentState
{
    [Id(0)] public AgentProfile? Profile { get; set; }

    [Id(1)] public string? PasswordHash { get; set; }

    /// <summary>
    /// The agent's active conversations (joined or assigned, not resolved, not let go): where its presence changes go.
    /// See <see cref="AgentRoster"/>.
    /// </summary>
    [Id(2)] public HashSet<string> ConversationIds { get; set; } = [];

    /// <summary>What the agent chose (online or away); effective only while a connection is alive.</summary>
    [Id(3)] public AgentStatus ChosenStatus { get; set; } = AgentStatus.Online;

    /// <summary>Tokens carry the version they were issued under (claim "ver"); bumping it revokes every older token.</summary>
    [Id(4)] public long TokenVersion { get; set; }

    /// <summary>Deleted: hidden from every list and unable to sign in; the profile stays so the id is never reused.</summary>
    [Id(5)] public bool Deleted { get; set; }

    /// <summary>Per active conversation: the event seq that made it active (absent: joined, seq unknown).</summary>
    [Id(6)] public Dictionary<string, long> ConversationVersions { get; set; } = [];

    /// <summary>
    /// <see cref="ConversationIds"/> holds only active conversations. False in a state written before (issue #13), whose
    /// list holds every conversation the agent ever joined: cleaned up once, on the next presence change.
    /// </summary>
    [Id(7)] public bool RosterTracked { get; set; }

    /// <summary>The agent's own settings (null: never set, the defaults apply).</summary>
    [Id(8)] public AgentPreferences? Preferences { get; set; }
}

public sealed partial class AgentGrain(
    [PersistentState("agent", KefuStorage.Name)] IPersistentState<AgentState> state,
    TimeProvider time,
    IOptions<PresenceOptions> presenceOptions,
    GatewayPusher pusher,
    ILogger<AgentGrain> logger)
    : ParticipantGrain(time, presenceOptions, logger), IAgentGrain
{
    /// <summary>Bounds of an agent's capacity (open conversations at once).</summary>
    public const int MinCapacity = 1;
    public const int MaxCapacity = 1000;

    private const int MaxDisplayName = 100;

    private readonly ILogger _logger = logger;

    protected override ParticipantRole Role => ParticipantRole.Agent;

    /// <summary>Offline is never chosen: it is what the connections say.</summary>
    private AgentStatus EffectiveStatus =>
        Connections.HasConnections && IsActive ? state.State.ChosenStatus : AgentStatus.Offline;

    private bool IsActive => state.State is { Profile.Deactivated: false, Deleted: false };

    private AgentRoster Roster => new(state.State.ConversationIds, state.State.ConversationVersions);

    /// <summary>The profile of an agent that was not deleted.</summary>
    private AgentProfile? Existing => state.State.Deleted ? null : state.State.Profile;

    public async Task<Outcome<AgentProfile>> Create(AgentProfile profile, string passwordHash)
    {
        if (state.State.Profile is not null)
        {
            return new KefuError(ErrorCodes.Conflict, $"Agent '{Key.Id}' already exists.");
        }

        if (profile.AgentId != Key.Id)
        {
            return KefuError.Invalid("The profile's agent id does not match the grain.");
        }

        state.State.Profile = profile;
        state.State.PasswordHash = passwordHash;
        state.State.RosterTracked = true;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).RegisterAgent(profile);
        return profile;
    }

    public async Task SetPasswordHash(string passwordHash)
    {
        if (state.State.Profile is null)
        {
            throw new InvalidOperationException($"Agent '{Key.Id}' does not exist.");
        }

        state.State.PasswordHash = passwordHash;
        await state.WriteStateAsync();
    }

    public Task<AgentProfile?> GetProfile() => Task.FromResult(Existing);

    /// <summary>None for a deactivated or deleted agent: it signs in like an unknown user (same answer, same time).</summary>
    public Task<AgentCredentials?> GetCredentials() =>
        Task.FromResult(IsActive && state.State is { Profile: { } p, PasswordHash: { } h } ? new AgentCredentials(p, h, state.State.TokenVersion) : null);

    public async Task<Outcome<JoinResult>> Join(string conversationId)
    {
        if (state.State.Profile is not { } profile)
        {
            return KefuError.NotFound("Agent");
        }

        var caller = new Caller(Key.Tenant, ParticipantRole.Agent, Key.Id, profile.DisplayName, profile.IsAdmin);
        var conversation = GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, conversationId));
        var result = await conversation.Join(caller, Connections.Presence);
        if (result.IsOk && !Roster.Contains(conversationId))
        {
            // A console joins what it opens, resolved conversations too: those stay out of the roster, or the agent's
            // next reconnect would wake every conversation it ever looked at. (Interleaves, so asking cannot deadlock.)
            var summary = await conversation.GetSummary();
            if (summary is { Status: not ConversationStatus.Resolved } && Roster.Joined(conversationId))
            {
                await state.WriteStateAsync();
            }
        }

        return result;
    }

    public async Task ConversationActive(string conversationId, long seq)
    {
        if (state.State.Profile is not null && Roster.MarkActive(conversationId, seq))
        {
            await state.WriteStateAsync();
        }
    }

    public async Task ConversationInactive(string conversationId, long seq)
    {
        if (state.State.Profile is not null && Roster.MarkInactive(conversationId, seq))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> GetActiveConversations() => Task.FromResult(state.State.ConversationIds.Order(StringComparer.Ordinal).ToArray());

    public Task<AgentPreferences?> GetPreferences() =>
        Task.FromResult(Existing is null ? null : state.State.Preferences ?? AgentPreferences.Default);

    public async Task<Outcome<AgentPreferences>> SetPreferences(AgentPreferences preferences)
    {
        ArgumentNullException.ThrowIfNull(preferences);
        if (Existing is null)
        {
            return KefuError.NotFound("Agent");
        }

        if (preferences.Validate() is { } problem)
        {
            return KefuError.Invalid(problem);
        }

        state.State.Preferences = preferences;
        await state.WriteStateAsync();
        return preferences;
    }

    public async Task<Outcome<AgentProfile>> SetAvatar(string? version)
    {
        if (Existing is not { } profile)
        {
            return KefuError.NotFound("Agent");
        }

        if (profile.AvatarVersion == version)
        {
            return profile;
        }

        var updated = profile with { AvatarVersion = version };
        state.State.Profile = updated;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).RegisterAgent(updated); // the agent list shows the picture
        return updated;
    }

    public async Task<Outcome<AgentProfile>> Update(AgentUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (Existing is not { } profile)
        {
            return KefuError.NotFound("Agent");
        }

        var displayName = update.DisplayName?.Trim();
        if (displayName is { Length: 0 or > MaxDisplayName })
        {
            return KefuError.Invalid($"displayName must be 1 to {MaxDisplayName} characters.");
        }

        if (update.Role is not null && !AgentRoles.IsKnown(update.Role))
        {
            return KefuError.Invalid("role must be 'agent' or 'admin'.");
        }

        if (update.Capacity is { } capacity && capacity is < MinCapacity or > MaxCapacity)
        {
            return KefuError.Invalid($"capacity must be {MinCapacity} to {MaxCapacity}.");
        }

        if (update.PasswordHash is { Length: 0 })
        {
            return KefuError.Invalid("The password hash must not be empty.");
        }

        var updated = profile with
        {
            DisplayName = displayName ?? profile.DisplayName,
            Role = update.Role ?? profile.Role,
            Capacity = update.Capacity ?? profile.Capacity,
            Deactivated = update.Active is { } active ? !active : profile.Deactivated,
        };

        // A token states the role it was issued for, a reset password must lock out whoever knew the old one, and a
        // deactivated agent must be out at once.
        var revoke = update.PasswordHash is not null || updated.Role != profile.Role || (updated.Deactivated && !profile.Deactivated);
        state.State.Profile = updated;
        state.State.PasswordHash = update.PasswordHash ?? state.State.PasswordHash;
        if (revoke)
        {
            state.State.TokenVersion++;
        }

        await state.WriteStateAsync();
        if (revoke)
        {
            CloseSockets();
        }

        if (updated.Deactivated != profile.Deactivated)
        {
            await ReportStatusAsync();
        }

        // The tenant is the directory of agents and hands capacity changes on to the dispatcher.
        await GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).RegisterAgent(updated);
        return updated;
    }

    public async Task<Outcome<AgentStatus>> SetStatus(AgentStatus status)
    {
        if (status is not (AgentStatus.Online or AgentStatus.Away))
        {
            return KefuError.Invalid("status must be 'online' or 'away'; offline follows from the connections.");
        }

        if (state.State.Profile is null)
        {
            return KefuError.NotFound("Agent");
        }

        if (state.State.ChosenStatus != status)
        {
            state.State.ChosenStatus = status;
            await state.WriteStateAsync();
        }

        // Awaited (the dispatcher never calls agents, so no cycle): once this returns, away means no new conversations.
        await ReportStatusAsync();
        return EffectiveStatus;
    }

    public Task<AgentStatus> GetStatus() => Task.FromResult(EffectiveStatus);

    public Task<AgentSession?> GetSession() =>
        Task.FromResult(Existing is null ? null : new AgentSession(state.State.TokenVersion, IsActive));

    public async Task<Outcome<bool>> Delete()
    {
        if (Existing is not { } profile)
        {
            return KefuError.NotFound("Agent");
        }

        state.State.Deleted = true;
        state.State.Profile = profile with { Deactivated = true };
        state.State.TokenVersion++;
        await state.WriteStateAsync();
        CloseSockets();
        await GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).RemoveAgent(Key.Id);
        await ReportStatusAsync();
        return true;
    }

    public async Task<long> EndSessions()
    {
        if (state.State.Profile is null)
        {
            return state.State.TokenVersion;
        }

        state.State.TokenVersion++;
        await state.WriteStateAsync();
        CloseSockets();
        return state.State.TokenVersion;
    }

    /// <summary>
    /// The gateways holding this agent's sockets close them: they were opened with tokens that are no longer valid.
    /// Presence then follows from their disconnects, as for any closed socket.
    /// </summary>
    private void CloseSockets()
    {
        var ended = new PushEnvelope([ParticipantKey], null, new SessionEndedEvent());
        foreach (var gateway in Connections.Presence.Gateways)
        {
            pusher.Push(gateway, ended);
        }
    }

    protected override async Task OnHeartbeatAsync(ParticipantPresence presence)
    {
        GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).UpdateAgentPresence(presence).Ignore();

        // The dispatcher forgets agents that stop reporting: every heartbeat renews the status.
        await ReportStatusAsync();
    }

    /// <summary>Only the active conversations hear of it (a resolved one asks for presence when it is reopened).</summary>
    protected override async Task OnPresenceChangedAsync(ParticipantPresence presence)
    {
        try
        {
            await TrackRosterAsync();
        }
        catch (Exception ex)
        {
            // Not written: the clean-up is kept in memory and written with the next change (or done again).
            LogRosterWriteFailed(_logger, ex, Key.Id);
        }

        await Task.WhenAll(state.State.ConversationIds
            .Select(c => GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, c)).UpdatePresence(presence))
            .Append(GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).UpdateAgentPresence(presence))
            .Append(ReportStatusAsync()));
    }

    /// <summary>
    /// Once, for a state written before the roster was kept: its list holds every conversation the agent ever joined.
    /// Each is asked once (as every presence change asked them before) and only those not resolved, where the agent is
    /// still a participant, stay. A conversation that cannot answer stays (it is told of presence, as before).
    /// </summary>
    private async Task TrackRosterAsync()
    {
        if (state.State.RosterTracked || state.State.Profile is null)
        {
            return;
        }

        var ids = state.State.ConversationIds.ToArray();
        var lookups = ids.Select(async id =>
        {
            try
            {
                return (id, Summary: await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, id)).GetSummary(), Failed: false);
            }
            catch (Exception ex)
            {
                LogRosterLookupFailed(_logger, ex, Key.Id, id);
                return (id, Summary: (ConversationSummary?)null, Failed: true);
            }
        });
        var answers = (await Task.WhenAll(lookups)).ToDictionary(a => a.id, StringComparer.Ordinal);
        Roster.Retain(id => answers[id] is var a && (a.Failed || (a.Summary is { } s && s.Status != ConversationStatus.Resolved && s.AgentIds.Contains(Key.Id))));
        state.State.RosterTracked = true;
        await state.WriteStateAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: conversation {ConversationId} could not say whether it is still active; it stays in the roster")]
    private static partial void LogRosterLookupFailed(ILogger logger, Exception exception, string agentId, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId}: writing the cleaned-up roster failed")]
    private static partial void LogRosterWriteFailed(ILogger logger, Exception exception, string agentId);

    private Task ReportStatusAsync() =>
        state.State.Profile is null
            ? Task.CompletedTask
            : GrainFactory.GetGrain<IDispatcherGrain>(Key.Tenant).AgentStatusChanged(Key.Id, EffectiveStatus);
}
