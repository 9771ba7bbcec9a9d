using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Kefu.Contracts.Plugins;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wasmtime;

namespace Kefu.Plugins;

/// <summary>
/// The one Wasmtime engine of a process (fuel and epoch interruption on), its epoch ticker, the compiled-module cache
/// (by SHA-256: compiled once, serialized to <see cref="PluginOptions.CacheDirectory"/>) and the gate that bounds how
/// many guest calls run at once. Grains reach guest code only through <see cref="CallAsync"/> and
/// <see cref="ValidateAsync"/>, which run it on the thread pool, never on the Orleans scheduler; the engine raises the
/// pool's minimum by the calls it lets run at once, so guests blocking pool threads never leave the silo short of them.
/// </summary>
public sealed partial class PluginEngine : IDisposable
{
    private readonly Engine engine;
    private readonly Linker linker;
    private readonly Linker wasiLinker;
    private readonly Thread ticker;
    private readonly CancellationTokenSource stopTicker = new();
    private readonly SemaphoreSlim gate;
    private readonly ConcurrentDictionary<string, CachedModule> modules = new(StringComparer.Ordinal);
    private readonly ILogger<PluginEngine> logger;
    private long useClock;

    public PluginEngine(IOptions<PluginOptions> options, IHttpClientFactory? httpClients, ILogger<PluginEngine> logger)
    {
        Options = options.Value;
        HttpClients = httpClients;
        this.logger = logger;
        using var config = new Config().WithFuelConsumption(true).WithEpochInterruption(true);
        engine = new Engine(config);
        linker = HostFunctions.CreateLinker(engine, wasi: false);
        wasiLinker = HostFunctions.CreateLinker(engine, wasi: true);
        gate = new SemaphoreSlim(Options.ConcurrentCalls);
        ReserveThreads(Options.ConcurrentCalls);
        // The epoch is the wall clock guest code sees: each tick lets every running call check its deadline and its
        // caller's cancellation (Store epoch callback), whatever loop the guest is in.
        // Its own thread, not a thread-pool timer: guest calls occupy pool threads (up to the gate's bound, and the pool
        // grows slowly), and a ticker queued behind them would let a looping guest run to its fuel instead of its
        // deadline, and a cancelled caller wait, exactly when plugins misbehave.
        ticker = new Thread(Tick) { IsBackground = true, Name = "kefu-plugin-epoch" };
        ticker.Start(TimeSpan.FromMilliseconds(Math.Max(1, Options.EpochTickMs)));
    }

    public PluginOptions Options { get; }

    internal IHttpClientFactory? HttpClients { get; }

    internal Engine Engine => engine;

    internal Linker LinkerFor(bool wasi) => wasi ? wasiLinker : linker;

    public static string Sha256(ReadOnlySpan<byte> wasm) => Convert.ToHexStringLower(SHA256.HashData(wasm));

    /// <summary>
    /// Checks a module and its manifest for upload: size, compilation, ABI v1, import allow-list, memory cap, the
    /// manifest's limits against the server's maximums, and one trial instantiation (a start function that traps or
    /// loops is refused here, not on the first message). Compiles at most once per SHA-256. Blocking: call off the
    /// Orleans scheduler.
    /// </summary>
    public PluginProblem? Validate(ReadOnlySpan<byte> wasm, PluginManifest manifest)
    {
        if (wasm.Length > Options.MaxModuleBytes)
            return new(PluginErrorCodes.ModuleTooLarge, $"the module is {wasm.Length} bytes; the most is {Options.MaxModuleBytes}");
        if (CheckLimits(manifest) is { } limits)
            return limits;
        var compiled = Compile(wasm, out var problem);
        if (compiled is null)
            return problem;
        if (ModuleChecker.Check(compiled.Module, manifest) is { } abi)
            return abi;
        using var sandbox = new PluginSandbox(this, compiled.Module, manifest);
        return sandbox.TryInstantiate(Stopwatch.StartNew(), TimeSpan.FromMilliseconds(manifest.Limits.TimeoutMs), CancellationToken.None);
    }

    /// <summary><see cref="Validate"/> on the thread pool (compiling is CPU work; the trial instantiation runs the module's start function).</summary>
    public Task<PluginProblem?> ValidateAsync(byte[] wasm, PluginManifest manifest) => Task.Run(() => Validate(wasm, manifest));

    /// <summary>The manifest's limits against the server's maximums.</summary>
    public PluginProblem? CheckLimits(PluginManifest manifest)
    {
        var limits = manifest.Limits;
        if (limits.Fuel <= 0 || limits.Fuel > Options.MaxFuel)
            return new(PluginErrorCodes.InvalidManifest, $"limits.fuel must be between 1 and {Options.MaxFuel}");
        if (limits.TimeoutMs <= 0 || limits.TimeoutMs > Options.MaxTimeoutMs)
            return new(PluginErrorCodes.InvalidManifest, $"limits.timeout_ms must be between 1 and {Options.MaxTimeoutMs}");
        if (limits.MemoryMb <= 0 || limits.MemoryMb > Options.MaxMemoryMb)
            return new(PluginErrorCodes.InvalidManifest, $"limits.memory_mb must be between 1 and {Options.MaxMemoryMb}");
        return null;
    }

    /// <summary>A sandbox for a module that passed <see cref="Validate"/> (compiled from the cache when it is there).</summary>
    public PluginSandbox CreateSandbox(ReadOnlySpan<byte> wasm, PluginManifest manifest)
    {
        var compiled = Compile(wasm, out var problem) ?? throw new InvalidOperationException(problem!.Reason);
        if (ModuleChecker.Check(compiled.Module, manifest) is { } abi)
            throw new InvalidOperationException(abi.Reason);
        return new PluginSandbox(this, compiled.Module, manifest);
    }

    /// <summary>
    /// Runs one call on the thread pool, within the process-wide bound on concurrent guest calls (waiting for a slot
    /// counts against the deadline: <c>plugin_busy</c> when none frees up in time). Never throws for a guest failure.
    /// </summary>
    public async Task<PluginCallResult> CallAsync(PluginSandbox sandbox, PluginCall call, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        var timeout = TimeSpan.FromMilliseconds(sandbox.Manifest.Limits.TimeoutMs);
        if (call.Deadline is { } deadline)
        {
            var left = deadline - DateTimeOffset.UtcNow;
            if (left < timeout)
                timeout = left;
        }
        if (timeout <= TimeSpan.Zero)
            return PluginCallResult.Failure(PluginErrorCodes.Timeout, "no time left before the call started");
        bool entered;
        try
        {
            entered = await gate.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return PluginCallResult.Failure(PluginErrorCodes.Cancelled, "the caller cancelled before the plugin ran");
        }
        if (!entered)
            return PluginCallResult.Failure(PluginErrorCodes.Busy, $"no sandbox slot free within {timeout.TotalMilliseconds:0} ms");
        try
        {
            var left = timeout - started.Elapsed;
            return await Task.Run(() => sandbox.Call(call.Hook, call.InputJson, left, cancellationToken), CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Guest code blocks its pool thread until it returns (Wasmtime has no async API), and the pool adds threads slowly
    /// once its minimum is busy: raising the minimum by the guest calls the gate lets run at once keeps that many
    /// blocked threads from ever starving Orleans and Kestrel, which run on the same pool. (Measured: a hand-off to
    /// dedicated threads instead costs 10 µs at p50 per call on a 2-core VM; the pool's is 2 µs.)
    /// </summary>
    private static void ReserveThreads(int guestCalls)
    {
        lock (ReserveLock)
        {
            if (reserved)
                return;
            ThreadPool.GetMinThreads(out var workers, out var completion);
            ThreadPool.SetMinThreads(workers + guestCalls, completion);
            reserved = true;
        }
    }

    private static readonly Lock ReserveLock = new();
    private static bool reserved;

    private CachedModule? Compile(ReadOnlySpan<byte> wasm, out PluginProblem? problem)
    {
        problem = null;
        var sha = Sha256(wasm);
        if (modules.TryGetValue(sha, out var cached))
        {
            cached.LastUse = Interlocked.Increment(ref useClock);
            return cached;
        }
        Module module;
        try
        {
            module = LoadSerialized(sha) ?? CompileAndStore(sha, wasm);
        }
        catch (WasmtimeException e)
        {
            problem = new(PluginErrorCodes.InvalidModule, "the module is not valid WebAssembly: " + FirstLine(e.Message));
            return null;
        }
        var entry = modules.GetOrAdd(sha, _ => new CachedModule(module));
        if (!ReferenceEquals(entry.Module, module))
            module.Dispose();
        entry.LastUse = Interlocked.Increment(ref useClock);
        Evict();
        return entry;
    }

    private Module CompileAndStore(string sha, ReadOnlySpan<byte> wasm)
    {
        var module = Module.FromBytes(engine, sha, wasm);
        if (string.IsNullOrEmpty(Options.CacheDirectory))
            return module;
        try
        {
            Directory.CreateDirectory(Options.CacheDirectory);
            var path = Path.Combine(Options.CacheDirectory, sha + ".cwasm");
            var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(temp, module.Serialize());
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException e)
        {
            LogCacheWriteFailed(logger, sha, e.Message);
        }
        catch (UnauthorizedAccessException e)
        {
            LogCacheWriteFailed(logger, sha, e.Message);
        }
        return module;
    }

    private Module? LoadSerialized(string sha)
    {
        if (string.IsNullOrEmpty(Options.CacheDirectory))
            return null;
        var path = Path.Combine(Options.CacheDirectory, sha + ".cwasm");
        if (!File.Exists(path))
            return null;
        try
        {
            // Wasmtime checks that the artifact was made by a compatible engine; anything else is compiled afresh.
            return Module.DeserializeFile(engine, sha, path);
        }
        catch (WasmtimeException)
        {
            File.Delete(path);
            return null;
        }
    }

    private void Evict()
    {
        var over = modules.Count - Math.Max(1, Options.MaxCachedModules);
        if (over <= 0)
            return;
        // Sandboxes hold their own reference to the Wasmtime module's instances; a module leaving the cache is only
        // recompiled (or deserialized) on its next new sandbox, never freed under a running one (not disposed here).
        foreach (var (sha, _) in modules.OrderBy(m => m.Value.LastUse).Take(over).ToArray())
            modules.TryRemove(sha, out _);
    }

    private void Tick(object? period)
    {
        var tick = (TimeSpan)period!;
        var stop = stopTicker.Token.WaitHandle;
        while (!stop.WaitOne(tick))
            engine.IncrementEpoch();
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    public void Dispose()
    {
        // The ticker must be gone before the engine it ticks is freed.
        stopTicker.Cancel();
        ticker.Join();
        stopTicker.Dispose();
        linker.Dispose();
        wasiLinker.Dispose();
        gate.Dispose();
        engine.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not keep compiled plugin module {Sha256} on disk: {Reason}")]
    private static partial void LogCacheWriteFailed(ILogger logger, string sha256, string reason);

    private sealed class CachedModule(Module module)
    {
        public Module Module { get; } = module;

        public long LastUse;
    }
}
