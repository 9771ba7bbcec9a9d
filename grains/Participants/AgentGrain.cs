using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Participants;

[GenerateSerializer]
public sealed class AgentState
{
    [Id(0)] public AgentProfile? Profile { get; set; }

    [Id(1)] public string? PasswordHash { get; set; }

    [Id(2)] public HashSet<string> ConversationIds { get; set; } = [];
}

public sealed class AgentGrain(
    [PersistentState("agent", KefuStorage.Name)] IPersistentState<AgentState> state,
    TimeProvider time,
    IOptions<PresenceOptions> presenceOptions,
    ILogger<AgentGrain> logger)
    : ParticipantGrain(time, presenceOptions, logger), IAgentGrain
{
    protected override ParticipantRole Role => ParticipantRole.Agent;

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

    public Task<AgentProfile?> GetProfile() => Task.FromResult(state.State.Profile);

    public Task<AgentCredentials?> GetCredentials() =>
        Task.FromResult(state.State is { Profile: { } p, PasswordHash: { } h } ? new AgentCredentials(p, h) : null);

    public async Task<Outcome<JoinResult>> Join(string conversationId)
    {
        if (state.State.Profile is not { } profile)
        {
            return KefuError.NotFound("Agent");
        }

        var caller = new Caller(Key.Tenant, ParticipantRole.Agent, Key.Id, profile.DisplayName, profile.IsAdmin);
        var result = await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, conversationId))
            .Join(caller, Connections.Presence);
        if (result.IsOk && state.State.ConversationIds.Add(conversationId))
        {
            await state.WriteStateAsync();
        }

        return result;
    }

    public Task<Outcome<AgentProfile>> Update(AgentUpdate update) => throw new NotImplementedException();

    public Task<Outcome<AgentStatus>> SetStatus(AgentStatus status) => throw new NotImplementedException();

    public Task<AgentStatus> GetStatus() => throw new NotImplementedException();

    protected override void OnHeartbeat(ParticipantPresence presence) =>
        GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).UpdateAgentPresence(presence).Ignore();

    protected override Task OnPresenceChangedAsync(ParticipantPresence presence) =>
        Task.WhenAll(state.State.ConversationIds
            .Select(c => GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, c)).UpdatePresence(presence))
            .Append(GrainFactory.GetGrain<ITenantGrain>(Key.Tenant).UpdateAgentPresence(presence)));
}
