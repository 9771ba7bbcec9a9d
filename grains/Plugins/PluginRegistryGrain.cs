using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Hosting;
using Kefu.Plugins;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Plugins;

[GenerateSerializer]
public sealed class PluginRegistryState
{
    [Id(0)] public Dictionary<string, PluginInfo> Plugins { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Moves on with every change, so hook callers know when their cached <see cref="PluginHookSet"/> is stale.</summary>
    [Id(1)] public int Version { get; set; }
}

/// <summary>
/// A tenant's plugins (docs/plugins.md). A module is checked — ABI, imports, memory, limits, one trial instantiation —
/// before anything is stored; its bytes live in <see cref="IPluginModuleGrain"/>, the list here. Every change tells
/// the plugin's grain to drop its sandboxes. Key: the tenant.
/// </summary>
public sealed partial class PluginRegistryGrain(
    [PersistentState("pluginRegistry", KefuStorage.Name)] IPersistentState<PluginRegistryState> state,
    PluginEngine engine,
    TimeProvider time,
    ILogger<PluginRegistryGrain> logger) : Grain, IPluginRegistryGrain
{
    private string Tenant => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A reader whose start was lost (Commit's notice is best effort) starts the next time the registry wakes up:
        // every tenant with message hooks asks it for its hook set.
        if (HasAfterMessagePlugins())
            GrainFactory.GetGrain<IAfterMessageHookGrain>(Tenant).Start().Ignore();
        return Task.CompletedTask;
    }

    private bool HasAfterMessagePlugins() =>
        state.State.Plugins.Values.Any(p => p.Enabled && p.Manifest.Hooks.Contains(PluginHooks.AfterMessage));

    public async Task<Outcome<PluginInfo>> Put(PluginUpload upload)
    {
        if (PluginRegistryRules.CheckManifest(upload.Name, upload.Manifest) is { } invalid)
            return new KefuError(PluginErrorCodes.InvalidManifest, invalid);
        state.State.Plugins.TryGetValue(upload.Name, out var previous);
        if (previous is null && state.State.Plugins.Count >= PluginRegistryRules.MaxPluginsPerTenant)
            return new KefuError(ErrorCodes.AtCapacity, $"a tenant has at most {PluginRegistryRules.MaxPluginsPerTenant} plugins");

        // Compiling is CPU work of tens of milliseconds and the trial instantiation runs guest code: off the scheduler,
        // like every call.
        var problem = await engine.ValidateAsync(upload.Wasm, upload.Manifest);
        if (problem is not null)
            return new KefuError(problem.Code, problem.Reason);

        var info = new PluginInfo(upload.Name, PluginEngine.Sha256(upload.Wasm), upload.Wasm.Length, upload.Manifest, Enabled: true,
            Revision: (previous?.Revision ?? 0) + 1, UploadedAt: time.GetUtcNow(), UploadedBy: upload.By);
        // The module first: a registry entry never points at a module that is not stored.
        await GrainFactory.GetGrain<IPluginModuleGrain>(Key(upload.Name)).Save(info.Revision, upload.Wasm);
        state.State.Plugins[upload.Name] = info;
        await Commit(upload.Name, info.Revision);
        return info;
    }

    public Task<PluginInfo[]> List() =>
        Task.FromResult(state.State.Plugins.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ToArray());

    public Task<PluginInfo?> Get(string name) =>
        Task.FromResult(state.State.Plugins.GetValueOrDefault(name));

    public async Task<Outcome<PluginInfo>> SetEnabled(string name, bool enabled, string? by)
    {
        if (!state.State.Plugins.TryGetValue(name, out var info))
            return new KefuError(PluginErrorCodes.NotFound, $"no plugin '{name}'");
        if (info.Enabled == enabled)
            return info;
        info = info with { Enabled = enabled };
        state.State.Plugins[name] = info;
        await Commit(name, info.Revision);
        return info;
    }

    public async Task<Outcome<bool>> Delete(string name, string? by)
    {
        if (!state.State.Plugins.Remove(name, out var info))
            return new KefuError(PluginErrorCodes.NotFound, $"no plugin '{name}'");
        await Commit(name, info.Revision + 1);
        await GrainFactory.GetGrain<IPluginModuleGrain>(Key(name)).Clear();
        return true;
    }

    public async Task<PluginModule?> GetModule(string name)
    {
        if (!state.State.Plugins.TryGetValue(name, out var info))
            return null;
        var wasm = await GrainFactory.GetGrain<IPluginModuleGrain>(Key(name)).Load(info.Revision);
        return wasm is null ? null : new PluginModule(info, wasm);
    }

    public Task<PluginHookSet> GetHooks()
    {
        var enabled = state.State.Plugins.Values.Where(p => p.Enabled).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
        return Task.FromResult(new PluginHookSet(state.State.Version, Entries(enabled, PluginHooks.BeforeMessage), Entries(enabled, PluginHooks.AfterMessage)));
    }

    private static PluginHookEntry[] Entries(PluginInfo[] plugins, string hook) =>
        plugins.Where(p => p.Manifest.Hooks.Contains(hook)).Select(p => new PluginHookEntry(p.Name, p.Revision, p.Manifest.OnError)).ToArray();

    private async Task Commit(string name, int revision)
    {
        state.State.Version++;
        await state.WriteStateAsync();
        // The change is stored: telling the others is best effort (the plugin's grain checks the registry again within
        // seconds, the after_message reader is kept alive by its reminder), so an answer lost with a silo never turns a
        // stored change into an error.
        try
        {
            await GrainFactory.GetGrain<IPluginGrain>(Key(name)).Changed(revision);
            // The after_message reader runs only for tenants that have such plugins; it stops by itself when they are gone.
            if (HasAfterMessagePlugins())
                await GrainFactory.GetGrain<IAfterMessageHookGrain>(Tenant).Start();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogNotifyFailed(logger, ex, Tenant, name);
        }
    }

    private string Key(string name) => $"{Tenant}/{name}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {Tenant}/{Plugin} changed, but its grain or the after_message reader was not told (they catch up by themselves)")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string tenant, string plugin);
}
