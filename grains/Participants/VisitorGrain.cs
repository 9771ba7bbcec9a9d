using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Participants;

[GenerateSerializer]
public sealed class VisitorState
{
    [Id(0)] public VisitorProfile? Profile { get; set; }

    [Id(1)] public string? CurrentConversationId { get; set; }

    [Id(2)] public List<string> ConversationIds { get; set; } = [];
}

public sealed class VisitorGrain(
    [PersistentState("visitor", KefuStorage.Name)] IPersistentState<VisitorState> state,
    TimeProvider time,
    IOptions<PresenceOptions> presenceOptions,
    ILogger<VisitorGrain> logger)
    : ParticipantGrain(time, presenceOptions, logger), IVisitorGrain
{
    protected override ParticipantRole Role => ParticipantRole.Visitor;

    public async Task<VisitorProfile> Register(VisitorProfile profile)
    {
        if (state.State.Profile is null)
        {
            state.State.Profile = profile;
            await state.WriteStateAsync();
        }

        return state.State.Profile;
    }

    public Task<VisitorProfile?> GetProfile() => Task.FromResult(state.State.Profile);

    public Task<string?> GetCurrentConversation() => Task.FromResult(state.State.CurrentConversationId);

    public async Task<string> GetOrStartConversation()
    {
        if (state.State.CurrentConversationId is { } current)
        {
            return current;
        }

        var profile = state.State.Profile ?? throw new InvalidOperationException($"Visitor {Key.Id} is not registered.");
        var conversationId = Ulid.NewUlid().ToString();
        await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, conversationId))
            .Start(new StartConversation(profile.Inbox, Key.Id, profile.Name, Connections.Presence));
        state.State.CurrentConversationId = conversationId;
        state.State.ConversationIds.Add(conversationId);
        await state.WriteStateAsync();
        return conversationId;
    }

    protected override Task OnPresenceChangedAsync(ParticipantPresence presence) =>
        state.State.CurrentConversationId is { } current
            ? GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, current)).UpdatePresence(presence)
            : Task.CompletedTask;
}
