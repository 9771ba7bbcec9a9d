using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;

namespace Kefu.Contracts.Grains;

// Plugins (issue #19, docs/plugins.md): a tenant's registry of uploaded modules, and one grain per (tenant, plugin)
// that owns the sandboxes and runs guest code off the Orleans scheduler.

/// <summary>A tenant's plugins: upload (validated, hash recorded), list, enable/disable, delete. Key: the tenant.</summary>
public interface IPluginRegistryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds or replaces a plugin. The module is checked against ABI v1, the import allow-list and the manifest's limits
    /// (capped by the server's maximums) before anything is stored; a new upload is a new revision and enabled.
    /// </summary>
    Task<Outcome<PluginInfo>> Put(PluginUpload upload);

    Task<PluginInfo[]> List();

    Task<PluginInfo?> Get(string name);

    Task<Outcome<PluginInfo>> SetEnabled(string name, bool enabled, string? by);

    Task<Outcome<bool>> Delete(string name, string? by);

    /// <summary>The module and manifest at the current revision (for the plugin grain; null when gone).</summary>
    Task<PluginModule?> GetModule(string name);

    /// <summary>The enabled plugins per message hook (versioned: callers cache it and ask again when it changes).</summary>
    [AlwaysInterleave]
    Task<PluginHookSet> GetHooks();
}

[GenerateSerializer, Immutable]
public sealed record PluginUpload(
    [property: Id(0)] string Name,
    [property: Id(1)] byte[] Wasm,
    [property: Id(2)] PluginManifest Manifest,
    [property: Id(3)] string? By);

/// <summary>
/// One plugin of one tenant: owns its sandboxes (a small pool), runs guest code on the thread pool — never on the
/// Orleans scheduler, never inside a conversation's turn — and stops calling a plugin that keeps failing.
/// Key: "{tenant}/{name}".
/// </summary>
public interface IPluginGrain : IGrainWithStringKey
{
    /// <summary>Calls the plugin's <c>process</c> for <paramref name="call"/>; never throws for a guest failure.</summary>
    Task<PluginCallResult> Call(PluginCall call, CancellationToken cancellationToken = default);

    /// <summary>The registry changed this plugin (new revision, disabled, deleted): drop the sandboxes.</summary>
    [AlwaysInterleave]
    Task Changed(int revision);

    [AlwaysInterleave]
    Task<PluginStats> GetStats();
}

[GenerateSerializer, Immutable]
public sealed record PluginStats(
    [property: Id(0)] long Calls,
    [property: Id(1)] long Failures,
    [property: Id(2)] int ConsecutiveFailures,
    [property: Id(3)] DateTimeOffset? SuspendedUntil,
    [property: Id(4)] string? LastErrorCode,
    [property: Id(5)] string? LastError,
    [property: Id(6)] DateTimeOffset? LastErrorAt,
    [property: Id(7)] double P99Ms);
