using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Plugins;
using Wasmtime;

namespace Kefu.Plugins;

/// <summary>
/// One instance of one plugin: a Wasmtime store (its fuel, memory cap and epoch deadline) and the instance in it. Not
/// thread-safe — one call at a time, which the owning grain's pool guarantees. Any failed call drops the instance; the
/// next call instantiates afresh, so a trap never leaves half-updated guest state behind.
/// </summary>
public sealed class PluginSandbox : IDisposable
{
    private readonly PluginEngine owner;
    private readonly Module module;
    private readonly byte[] configJson;
    private Store? store;
    private Memory? memory;
    private long instantiatedMemoryBytes;
    private Func<int, int>? alloc;
    private Func<int, int, int>? process;
    private CallState? current;
    private Dictionary<string, byte[]>? configValues;

    internal PluginSandbox(PluginEngine owner, Module module, PluginManifest manifest)
    {
        this.owner = owner;
        this.module = module;
        Manifest = manifest;
        configJson = Encoding.UTF8.GetBytes(string.IsNullOrWhiteSpace(manifest.ConfigJson) ? "{}" : manifest.ConfigJson);
    }

    public PluginManifest Manifest { get; }

    internal PluginEngine Owner => owner;

    /// <summary>Calls made by this sandbox so far (a fresh instance after a failure counts on).</summary>
    public long Calls { get; private set; }

    /// <summary>The configuration as parsed JSON text (the input's <c>config</c>).</summary>
    internal ReadOnlySpan<byte> ConfigJson => configJson;

    /// <summary>
    /// <c>config[key]</c> as kefu.config_get hands it over (a string as its UTF-8 text, any other value as JSON), or null.
    /// Parsed once per sandbox, not once per call: the configuration never changes under a sandbox, and a hook on the
    /// message path asks on every message.
    /// </summary>
    internal byte[]? ConfigValue(string key)
    {
        configValues ??= ParseConfig(configJson);
        return configValues.GetValueOrDefault(key);
    }

    private static Dictionary<string, byte[]> ParseConfig(byte[] json)
    {
        var values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var config = JsonDocument.Parse(json);
        if (config.RootElement.ValueKind == JsonValueKind.Object)
            foreach (var property in config.RootElement.EnumerateObject())
                values[property.Name] = property.Value.ValueKind == JsonValueKind.String
                    ? Encoding.UTF8.GetBytes(property.Value.GetString()!)
                    : Encoding.UTF8.GetBytes(property.Value.GetRawText());
        return values;
    }

    internal CallState? Current => current;

    internal Memory? GuestMemory => memory;

    /// <summary>
    /// Runs <c>process</c> once. Blocking, and guest code runs on the calling thread: <see cref="PluginEngine.CallAsync"/>
    /// is the way in from a grain.
    /// </summary>
    public PluginCallResult Call(string hook, string inputJson, TimeSpan timeLeft, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var input = Encoding.UTF8.GetBytes(inputJson);
        if (input.Length > PluginLimits.MaxInputBytes)
            return PluginCallResult.Failure(PluginErrorCodes.InputTooLarge, $"the input is {input.Length} bytes; the most is {PluginLimits.MaxInputBytes}");
        Calls++;
        if (store is null && TryInstantiate(clock, timeLeft, cancellationToken) is { } problem)
            return PluginCallResult.Failure(problem.Code, problem.Reason, elapsedMs: clock.Elapsed.TotalMilliseconds);

        var state = Begin(hook, clock, timeLeft, cancellationToken);
        try
        {
            var ptr = alloc!(input.Length);
            if (!state.TryGetSpan(memory!, ptr, input.Length, out var target))
                return Fail(state, PluginErrorCodes.Trap, $"alloc({input.Length}) returned {ptr}, outside the module's memory");
            input.CopyTo(target);
            var status = process!(ptr, input.Length);
            if (state.Problem is { } late)
                return Fail(state, late.Code, late.Reason);
            if (status != 0)
                return Fail(state, PluginErrorCodes.Failed, $"process returned {status}");
            var actions = new PluginAction[state.Emitted.Count];
            for (var i = 0; i < actions.Length; i++)
                actions[i] = PluginOutputReader.Read(state.Emitted[i], hook);
            return new PluginCallResult(true, actions, null, null, state.Log.ToString(), state.FuelUsed(store!), clock.Elapsed.TotalMilliseconds);
        }
        catch (PluginOutputException e)
        {
            return Fail(state, PluginErrorCodes.InvalidOutput, e.Message);
        }
        catch (WasmtimeException e)
        {
            var stopped = state.Problem ?? Classify(e);
            return Fail(state, stopped.Code, stopped.Reason);
        }
        finally
        {
            current = null;
        }
    }

    /// <summary>Creates the store and instance (running the module's start function on the call's fuel and time).</summary>
    internal PluginProblem? TryInstantiate(Stopwatch clock, TimeSpan timeLeft, CancellationToken cancellationToken)
    {
        Drop();
        var fresh = new Store(owner.Engine, this);
        // Fuel is set before instantiation: a start function runs on the same budget as a call, and a fresh store has none.
        fresh.Fuel = (ulong)Manifest.Limits.Fuel;
        fresh.SetLimits(memorySize: (long)Manifest.Limits.MemoryMb * 1024 * 1024, tableElements: 100_000, instances: 1, tables: 4, memories: 1);
        fresh.SetEpochDeadlineCallback(OnEpoch);
        fresh.SetEpochDeadline(1);
        if (Manifest.Wasi)
            fresh.SetWasiConfiguration(HostFunctions.SealedWasi(this));
        store = fresh;
        var state = Begin(PluginHooks.Route, clock, timeLeft, cancellationToken);
        try
        {
            var instance = owner.LinkerFor(Manifest.Wasi).Instantiate(fresh, module);
            memory = instance.GetMemory(PluginAbi.Memory);
            instantiatedMemoryBytes = memory?.GetLength() ?? 0;
            alloc = instance.GetFunction<int, int>(PluginAbi.Alloc);
            process = instance.GetFunction<int, int, int>(PluginAbi.Process);
            if (memory is null || alloc is null || process is null)
            {
                Drop();
                return new(PluginErrorCodes.AbiMismatch, "the instance lacks memory, alloc or process");
            }
            return null;
        }
        catch (WasmtimeException e)
        {
            var problem = state.Problem ?? Classify(e);
            Drop();
            return problem with { Reason = "instantiation failed: " + problem.Reason };
        }
        finally
        {
            current = null;
        }
    }

    private CallState Begin(string hook, Stopwatch clock, TimeSpan timeLeft, CancellationToken cancellationToken)
    {
        var state = new CallState(hook, clock, timeLeft, cancellationToken, (ulong)Manifest.Limits.Fuel);
        store!.Fuel = (ulong)Manifest.Limits.Fuel;
        store.SetEpochDeadline(1);
        current = state;
        return state;
    }

    // Each epoch tick while guest code runs: stop it when the caller gave up or its time is over, else one more tick.
    private ulong OnEpoch(Store _)
    {
        var state = current;
        if (state is null)
            return 1;
        if (state.CancellationToken.IsCancellationRequested)
            throw state.Stop(PluginErrorCodes.Cancelled, "the caller cancelled the call");
        if (state.Clock.Elapsed >= state.TimeLeft)
            throw state.Stop(PluginErrorCodes.Timeout, $"the call ran past its {state.TimeLeft.TotalMilliseconds:0} ms");
        return 1;
    }

    private PluginCallResult Fail(CallState state, string code, string reason)
    {
        // A call stopped at an epoch tick (deadline, cancellation) has burned fuel Wasmtime has not written back to the
        // store yet: its count is unknown, and 0 says so rather than a wrong small number (docs/plugins.md "Limits").
        var fuel = store is null || code is PluginErrorCodes.Timeout or PluginErrorCodes.Cancelled ? 0 : state.FuelUsed(store);
        Drop();
        return PluginCallResult.Failure(code, reason, state.Log.ToString(), fuel, state.Clock.Elapsed.TotalMilliseconds);
    }

    private PluginProblem Classify(WasmtimeException e)
    {
        if (e is TrapException trap && trap.Type == TrapCode.OutOfFuel)
            return new(PluginErrorCodes.OutOfFuel, $"the call used all of its {Manifest.Limits.Fuel} fuel");
        var first = Cause(e.Message);
        // memory.grow past the cap returns -1; a guest that then traps ran out of memory, whatever its trap says. Only a
        // guest that grew towards the cap: one declared at its cap from the start and trapping is just a trap.
        var cap = (long)Manifest.Limits.MemoryMb * 1024 * 1024;
        if (memory is not null && memory.GetLength() > instantiatedMemoryBytes && memory.GetLength() + PluginAbi.PageBytes > cap)
            return new(PluginErrorCodes.MemoryLimit, $"the module reached its {Manifest.Limits.MemoryMb} MiB memory cap ({first})");
        return new(PluginErrorCodes.Trap, "the module trapped: " + first);
    }

    // Wasmtime's message starts with "error while executing at wasm backtrace:" and the frames; what happened is the
    // last line after "Caused by:" (e.g. "wasm trap: wasm `unreachable` instruction executed").
    internal static string Cause(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var caused = Array.FindIndex(lines, l => l.StartsWith("Caused by:", StringComparison.Ordinal));
        return caused >= 0 && caused + 1 < lines.Length ? string.Join("; ", lines[(caused + 1)..]) : lines.FirstOrDefault() ?? "";
    }

    private void Drop()
    {
        store?.Dispose();
        store = null;
        memory = null;
        alloc = null;
        process = null;
    }

    public void Dispose() => Drop();
}

/// <summary>What one call has done so far: emitted actions, log, and the reason it was stopped (if it was).</summary>
internal sealed class CallState(string hook, Stopwatch clock, TimeSpan timeLeft, CancellationToken cancellationToken, ulong fuel)
{
    public string Hook { get; } = hook;
    public Stopwatch Clock { get; } = clock;
    public TimeSpan TimeLeft { get; } = timeLeft;
    public CancellationToken CancellationToken { get; } = cancellationToken;
    public List<byte[]> Emitted { get; } = [];
    public int EmittedBytes { get; set; }
    public StringBuilder Log { get; } = new();
    public int LogBytes { get; set; }
    public PluginProblem? Problem { get; private set; }

    public TimeSpan Remaining => TimeLeft - Clock.Elapsed;

    /// <summary>Records why the guest is being stopped and returns the exception that stops it (a trap in the guest).</summary>
    public Exception Stop(string code, string reason)
    {
        Problem ??= new PluginProblem(code, reason);
        return new PluginStopException(reason);
    }

    public long FuelUsed(Store store)
    {
        var left = store.Fuel;
        return left >= fuel ? 0 : (long)(fuel - left);
    }

    public bool TryGetSpan(Memory memory, int ptr, int length, out Span<byte> span)
    {
        span = default;
        if (ptr < 0 || length < 0 || (long)ptr + length > memory.GetLength())
            return false;
        span = memory.GetSpan(ptr, length);
        return true;
    }

    public void AppendLog(string text)
    {
        var room = PluginLimits.MaxLogBytes - LogBytes;
        if (room <= 0)
            return;
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > room)
        {
            // Cut on a character boundary within the room left.
            var cut = text.Length;
            while (cut > 0 && Encoding.UTF8.GetByteCount(text.AsSpan(0, cut)) > room)
                cut--;
            text = text[..cut];
            bytes = Encoding.UTF8.GetByteCount(text);
        }
        Log.Append(text);
        LogBytes += bytes;
    }
}

/// <summary>Thrown from host code to stop the guest (becomes a trap); the reason is in <see cref="CallState.Problem"/>.</summary>
internal sealed class PluginStopException(string message) : Exception(message);

internal static class GuestMemory
{
    public static void WritePointer(Span<byte> target, int ptr, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(target, ptr);
        BinaryPrimitives.WriteInt32LittleEndian(target[4..], length);
    }
}
