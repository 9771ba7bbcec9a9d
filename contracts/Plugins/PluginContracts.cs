namespace Kefu.Contracts.Plugins;

// Plugins run untrusted customer-service logic in a WebAssembly sandbox (docs/plugins.md, issue #19). These types are
// the plugin's contract with Kefu: what a tenant uploads (module + manifest), what a call returns, and the actions a
// plugin may ask for. The sandbox itself (Kefu.Plugins) and the grains that own instances build on them.

/// <summary>Where a plugin may run; a manifest lists the ones it supports.</summary>
public static class PluginHooks
{
    /// <summary>Before a visitor's message is stored: may replace/redact its text or refuse it (drop).</summary>
    public const string BeforeMessage = "before_message";

    /// <summary>After a visitor's message is stored (from the event log): may tag, reply, set attributes, emit.</summary>
    public const string AfterMessage = "after_message";

    /// <summary>As a routing-rules action (<c>plugin: name</c>); its output is usable by later steps.</summary>
    public const string Route = "route";

    public static readonly string[] All = [BeforeMessage, AfterMessage, Route];
}

/// <summary>The action kinds a plugin may emit (docs/plugins.md "Output"). Anything else makes the call fail.</summary>
public static class PluginActionKinds
{
    public const string ReplaceText = "replace_text";
    public const string Redact = "redact";
    public const string Tag = "tag";
    public const string SetAttribute = "set_attribute";
    public const string Reply = "reply";
    public const string Drop = "drop";
    public const string Emit = "emit";

    /// <summary>A named value for later routing steps (<c>{{plugin.&lt;name&gt;}}</c>); no effect by itself.</summary>
    public const string Set = "set";

    public static readonly string[] All = [ReplaceText, Redact, Tag, SetAttribute, Reply, Drop, Emit, Set];
}

/// <summary>Stable reasons a plugin call or an upload failed (problem details <c>code</c>, execution records).</summary>
public static class PluginErrorCodes
{
    // Upload / load time.
    public const string InvalidModule = "plugin_invalid_module";          // not WebAssembly, or does not compile
    public const string AbiMismatch = "plugin_abi_mismatch";              // memory/alloc/process/kefu_abi_v1 missing or wrong type
    public const string ImportNotAllowed = "plugin_import_not_allowed";   // an import outside the allow-list
    public const string MemoryTooLarge = "plugin_memory_too_large";       // declared minimum above the manifest's cap
    public const string InvalidManifest = "plugin_invalid_manifest";
    public const string ModuleTooLarge = "plugin_module_too_large";

    // Call time: the call failed, the instance is dropped and recreated for the next call.
    public const string Trap = "plugin_trap";                             // the guest trapped (unreachable, abort, bounds...)
    public const string OutOfFuel = "plugin_out_of_fuel";
    public const string Timeout = "plugin_timeout";                       // wall clock: min(manifest timeout, caller's deadline)
    public const string Cancelled = "plugin_cancelled";                   // the caller gave up
    public const string MemoryLimit = "plugin_memory_limit";              // could not get memory within its cap
    public const string InputTooLarge = "plugin_input_too_large";         // > 128 KiB
    public const string OutputTooLarge = "plugin_output_too_large";       // > 20 KiB emitted
    public const string InvalidOutput = "plugin_invalid_output";          // an action that is not valid JSON / not known / not allowed at this hook
    public const string HostDenied = "plugin_host_denied";                // kefu.http to a host not in allowed_hosts
    public const string Failed = "plugin_failed";                         // process returned a non-zero status

    // Before a call.
    public const string NotFound = "plugin_not_found";
    public const string HookNotDeclared = "plugin_hook_not_declared";    // the manifest does not list the hook
    public const string Disabled = "plugin_disabled";
    public const string Suspended = "plugin_suspended";                   // too many failures in a row: cooling down
    public const string Busy = "plugin_busy";                             // no sandbox slot within the time left
}

/// <summary>
/// A plugin's manifest, uploaded with its module (JSON, snake_case: docs/plugins.md "Manifest"). Limits are capped by
/// the server's <c>Kefu:Plugins</c> maximums; a manifest asking for more is refused at upload.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PluginManifest(
    [property: Id(0)] string Name,
    [property: Id(1)] string Version,
    [property: Id(2)] string[] Hooks,
    [property: Id(3)] PluginLimits Limits,
    [property: Id(4)] bool Wasi,
    [property: Id(5)] string[] AllowedHosts,
    [property: Id(6)] string OnError,
    [property: Id(7)] string ConfigJson,
    [property: Id(8)] string? Description = null)
{
    /// <summary>A failing before_message hook lets the message through unchanged (chat never stops for a plugin).</summary>
    public const string OnErrorAllow = "allow";

    /// <summary>A failing before_message hook refuses the message (for plugins that must never be bypassed).</summary>
    public const string OnErrorRefuse = "refuse";
}

/// <summary>Per-call limits (docs/plugins.md "Limits").</summary>
[GenerateSerializer, Immutable]
public sealed record PluginLimits(
    [property: Id(0)] long Fuel,
    [property: Id(1)] int TimeoutMs,
    [property: Id(2)] int MemoryMb)
{
    /// <summary>Fixed by the ABI, not by the manifest.</summary>
    public const int MaxInputBytes = 128 * 1024;
    public const int MaxOutputBytes = 20 * 1024;
    public const int MaxLogBytes = 1024;

    public static readonly PluginLimits Default = new(Fuel: 10_000_000, TimeoutMs: 100, MemoryMb: 16);
}

/// <summary>One action a plugin emitted, parsed and checked (the JSON object is kept as written).</summary>
[GenerateSerializer, Immutable]
public sealed record PluginAction(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Json);

/// <summary>The outcome of one call: the actions on success, or a stable error code and a readable reason.</summary>
[GenerateSerializer, Immutable]
public sealed record PluginCallResult(
    [property: Id(0)] bool Ok,
    [property: Id(1)] PluginAction[] Actions,
    [property: Id(2)] string? ErrorCode,
    [property: Id(3)] string? Reason,
    [property: Id(4)] string Log,
    [property: Id(5)] long FuelUsed,
    [property: Id(6)] double ElapsedMs)
{
    public static PluginCallResult Failure(string code, string reason, string log = "", long fuelUsed = 0, double elapsedMs = 0) =>
        new(false, [], code, reason, log, fuelUsed, elapsedMs);
}

/// <summary>
/// A call into a plugin: the hook and the hook's own input fields as a JSON object (<c>{"message": …}</c>, or
/// <c>{"event": …, "vars": …}</c>); the plugin grain adds <c>abi</c>, <c>hook</c>, <c>tenant</c>, <c>plugin</c>,
/// <c>config</c> and <c>time_left_ms</c> (docs/plugins.md "Input").
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PluginCall(
    [property: Id(0)] string Hook,
    [property: Id(1)] string InputJson,
    [property: Id(2)] DateTimeOffset? Deadline);

/// <summary>A plugin as listed (never the module bytes).</summary>
[GenerateSerializer, Immutable]
public sealed record PluginInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string Sha256,
    [property: Id(2)] long SizeBytes,
    [property: Id(3)] PluginManifest Manifest,
    [property: Id(4)] bool Enabled,
    [property: Id(5)] int Revision,
    [property: Id(6)] DateTimeOffset UploadedAt,
    [property: Id(7)] string? UploadedBy);

/// <summary>What the plugin grain needs to build a sandbox: the module and its manifest, at one revision.</summary>
[GenerateSerializer, Immutable]
public sealed record PluginModule(
    [property: Id(0)] PluginInfo Info,
    [property: Id(1)] byte[] Wasm);

/// <summary>A tenant's enabled plugins per hook, in the order they run (name order), with the revision to call.</summary>
[GenerateSerializer, Immutable]
public sealed record PluginHookSet(
    [property: Id(0)] int Version,
    [property: Id(1)] PluginHookEntry[] BeforeMessage,
    [property: Id(2)] PluginHookEntry[] AfterMessage)
{
    public static readonly PluginHookSet Empty = new(0, [], []);
}

[GenerateSerializer, Immutable]
public sealed record PluginHookEntry(
    [property: Id(0)] string Name,
    [property: Id(1)] int Revision,
    [property: Id(2)] string OnError);
