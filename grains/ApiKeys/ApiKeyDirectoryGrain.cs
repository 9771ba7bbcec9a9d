using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.ApiKeys;

[GenerateSerializer]
public sealed class ApiKeyDirectoryState
{
    [Id(0)] public List<string> KeyIds { get; set; } = [];
}

/// <summary>The ids of a tenant's live keys (for the list), bounded so one tenant cannot grow it without end.</summary>
public sealed class ApiKeyDirectoryGrain(
    [PersistentState("apiKeyDirectory", KefuStorage.Name)] IPersistentState<ApiKeyDirectoryState> state) : Grain, IApiKeyDirectoryGrain
{
    public const int MaxKeys = 200;

    public async Task<bool> Add(string keyId)
    {
        if (state.State.KeyIds.Contains(keyId))
        {
            return true;
        }

        if (state.State.KeyIds.Count >= MaxKeys)
        {
            return false;
        }

        state.State.KeyIds.Add(keyId);
        await state.WriteStateAsync();
        return true;
    }

    public async Task Remove(string keyId)
    {
        if (state.State.KeyIds.Remove(keyId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> List() => Task.FromResult(state.State.KeyIds.ToArray());
}
