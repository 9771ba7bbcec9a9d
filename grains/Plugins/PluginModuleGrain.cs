using Kefu.Grains.Hosting;

namespace Kefu.Grains.Plugins;

/// <summary>
/// The bytes of one plugin's current module, apart from the registry's list so a tenant's list never carries (or
/// rewrites) megabytes of modules. Called by the registry only. Key: "{tenant}/{name}".
/// </summary>
public interface IPluginModuleGrain : IGrainWithStringKey
{
    Task Save(int revision, byte[] wasm);

    /// <summary>The module at <paramref name="revision"/>, or null when another revision (or none) is stored.</summary>
    Task<byte[]?> Load(int revision);

    Task Clear();
}

[GenerateSerializer]
public sealed class PluginModuleState
{
    [Id(0)] public int Revision { get; set; }
    [Id(1)] public byte[]? Wasm { get; set; }
}

public sealed class PluginModuleGrain(
    [PersistentState("pluginModule", KefuStorage.Name)] IPersistentState<PluginModuleState> state) : Grain, IPluginModuleGrain
{
    public async Task Save(int revision, byte[] wasm)
    {
        state.State.Revision = revision;
        state.State.Wasm = wasm;
        await state.WriteStateAsync();
    }

    public Task<byte[]?> Load(int revision) =>
        Task.FromResult(state.State.Revision == revision ? state.State.Wasm : null);

    public async Task Clear()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}
