using Kefu.Contracts.Grains;
using Kefu.Contracts.Plugins;
using Kefu.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Plugins;

/// <summary>
/// One plugin of one tenant on this silo: a small pool of sandboxes at the registry's current revision, calls run on
/// the thread pool through <see cref="PluginEngine.CallAsync"/> (never on the scheduler), and a breaker that suspends a
/// plugin failing over and over. Reentrant so calls overlap, each on its own sandbox; the pool and the counters are
/// only touched between awaits, on the grain's turn. Key: "{tenant}/{name}".
/// </summary>
[Reentrant]
public sealed partial class PluginGrain(
    PluginEngine engine,
    IOptions<PluginOptions> options,
    TimeProvider time,
    ILogger<PluginGrain> logger) : Grain, IPluginGrain
{
    private readonly Stack<PluginSandbox> idle = new();
    private readonly PluginBreaker breaker = new(options.Value.SuspendAfterFailures, options.Value.SuspendFor);
    private SemaphoreSlim? slots;
    private PluginModule? module;
    private Task<PluginModule?>? loading;
    private int revision = -1;
    private DateTimeOffset checkedAt;

    /// <summary>How long a loaded module is used without asking the registry whether it is still current.</summary>
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromSeconds(10);

    private string Tenant => this.GetPrimaryKeyString().Split('/', 2)[0];
    private string Name => this.GetPrimaryKeyString().Split('/', 2)[1];

    public async Task<PluginCallResult> Call(PluginCall call, CancellationToken cancellationToken = default)
    {
        if (breaker.IsSuspended(time.GetUtcNow()))
            return PluginCallResult.Failure(PluginErrorCodes.Suspended,
                $"suspended until {breaker.SuspendedUntil:O} after {breaker.ConsecutiveFailures} failed calls in a row (last: {breaker.LastErrorCode})");
        var current = await Module();
        if (current is null)
            return PluginCallResult.Failure(PluginErrorCodes.NotFound, $"no plugin '{Name}'");
        if (!current.Info.Enabled)
            return PluginCallResult.Failure(PluginErrorCodes.Disabled, $"plugin '{Name}' is disabled");
        if (!current.Info.Manifest.Hooks.Contains(call.Hook))
            return PluginCallResult.Failure(PluginErrorCodes.HookNotDeclared, $"plugin '{Name}' does not run at {call.Hook} (its manifest's hooks)");

        slots ??= new SemaphoreSlim(Math.Max(1, options.Value.SandboxesPerPlugin));
        var wait = TimeSpan.FromMilliseconds(current.Info.Manifest.Limits.TimeoutMs);
        if (call.Deadline is { } deadline && deadline - time.GetUtcNow() < wait)
            wait = deadline - time.GetUtcNow();
        if (wait <= TimeSpan.Zero || !await slots.WaitAsync(wait, cancellationToken).ConfigureAwait(true))
            return PluginCallResult.Failure(PluginErrorCodes.Busy, $"all {options.Value.SandboxesPerPlugin} sandboxes of '{Name}' stayed busy");
        var sandboxRevision = current.Info.Revision;
        PluginSandbox? sandbox = null;
        PluginCallResult result;
        try
        {
            // A new sandbox compiles (or takes the cached module) and that is CPU work: not on the scheduler either.
            sandbox = idle.Count > 0 ? idle.Pop() : await Task.Run(() => engine.CreateSandbox(current.Wasm, current.Info.Manifest), CancellationToken.None);
            var input = PluginInput.Compose(call, Tenant, Name, current.Info.Manifest.ConfigJson, call.Deadline is { } d ? d - time.GetUtcNow() : wait);
            if (input is null)
                result = PluginCallResult.Failure(PluginErrorCodes.InputTooLarge, "the hook's input is not a JSON object");
            else
                result = await engine.CallAsync(sandbox, call with { InputJson = input }, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            result = PluginCallResult.Failure(PluginErrorCodes.Cancelled, "the caller cancelled the call");
        }
        finally
        {
            if (sandbox is not null)
            {
                if (revision == sandboxRevision && idle.Count < options.Value.SandboxesPerPlugin)
                    idle.Push(sandbox);
                else
                    sandbox.Dispose();
            }
            slots.Release();
        }

        breaker.Record(result.Ok, result.ElapsedMs, result.ErrorCode, result.Reason, time.GetUtcNow());
        Telemetry.KefuMetrics.PluginCalled(call.Hook, result.Ok ? null : result.ErrorCode ?? "error");
        if (!result.Ok)
            LogCallFailed(logger, Tenant, Name, call.Hook, result.ErrorCode!, result.Reason!);
        return result;
    }

    public Task Changed(int newRevision)
    {
        module = null;
        loading = null;
        revision = -1;
        breaker.Reset();
        while (idle.TryPop(out var sandbox))
            sandbox.Dispose();
        return Task.CompletedTask;
    }

    public Task<PluginStats> GetStats() => Task.FromResult(new PluginStats(breaker.Calls, breaker.Failures, breaker.ConsecutiveFailures,
        breaker.SuspendedUntil, breaker.LastErrorCode, breaker.LastError, breaker.LastErrorAt, breaker.P99Ms()));

    // One load at a time however many calls arrive together (the grain is reentrant). The registry tells this grain of
    // every change (Changed), but a message lost with a silo must not leave a disabled or replaced plugin running: the
    // module is checked against the registry's entry again when it is older than RecheckAfter.
    private async Task<PluginModule?> Module()
    {
        if (module is not null && time.GetUtcNow() - checkedAt < RecheckAfter)
            return module;
        if (module is { } held)
        {
            var info = await GrainFactory.GetGrain<IPluginRegistryGrain>(Tenant).Get(Name);
            if (ReferenceEquals(module, held) && info is not null && info.Revision == held.Info.Revision)
            {
                module = held with { Info = info }; // enabled or not, same module
                checkedAt = time.GetUtcNow();
                return module;
            }
            if (ReferenceEquals(module, held))
                await Changed(info?.Revision ?? -1);
        }

        loading ??= GrainFactory.GetGrain<IPluginRegistryGrain>(Tenant).GetModule(Name);
        var pending = loading;
        var loaded = await pending;
        if (ReferenceEquals(loading, pending))
        {
            module = loaded;
            revision = loaded?.Info.Revision ?? -1;
            checkedAt = time.GetUtcNow();
            loading = null;
        }
        return loaded;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        while (idle.TryPop(out var sandbox))
            sandbox.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin {Tenant}/{Plugin} failed at {Hook}: {Code} {Reason}")]
    private static partial void LogCallFailed(ILogger logger, string tenant, string plugin, string hook, string code, string reason);
}
