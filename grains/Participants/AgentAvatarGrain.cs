using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Participants;

[GenerateSerializer]
public sealed class AgentAvatarState
{
    [Id(0)] public AgentAvatar? Avatar { get; set; }
}

/// <summary>
/// An agent's picture. The gateway checks type, size and dimensions from the bytes before it calls <see cref="Set"/>;
/// this grain keeps the picture and tells the agent grain its version, so lists link it with a cache-busting version.
/// </summary>
public sealed class AgentAvatarGrain(
    [PersistentState("agentAvatar", KefuStorage.Name)] IPersistentState<AgentAvatarState> state)
    : Grain, IAgentAvatarGrain
{
    /// <summary>Pictures above this are refused; an avatar is shown at 24 to 64 pixels, and it lives in grain state.</summary>
    public const int MaxBytes = 512 * 1024;

    public static readonly string[] ContentTypes = ["image/png", "image/jpeg", "image/webp"];

    public async Task<Outcome<string>> Set(string contentType, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (Array.IndexOf(ContentTypes, contentType) < 0 || bytes.Length is 0 or > MaxBytes)
        {
            return KefuError.Invalid($"An avatar is a PNG, JPEG or WebP picture of at most {MaxBytes} bytes.");
        }

        var agent = GrainFactory.GetGrain<IAgentGrain>(this.GetPrimaryKeyString());
        if (await agent.GetProfile() is null)
        {
            return KefuError.NotFound("Agent");
        }

        // A new version per upload: the URL lists give changes with it, so browsers never show a stale picture.
        var version = Ulid.NewUlid().ToString().ToLowerInvariant();
        state.State.Avatar = new AgentAvatar(contentType, bytes, version);
        await state.WriteStateAsync();
        var linked = await agent.SetAvatar(version);
        return linked.Error is { } error ? error : version;
    }

    public async Task<Outcome<bool>> Clear()
    {
        var agent = GrainFactory.GetGrain<IAgentGrain>(this.GetPrimaryKeyString());
        if (state.State.Avatar is not null)
        {
            state.State.Avatar = null;
            await state.ClearStateAsync();
        }

        var unlinked = await agent.SetAvatar(null);
        return unlinked.Error is { } error ? error : true;
    }

    public Task<AgentAvatar?> Get() => Task.FromResult(state.State.Avatar);
}
