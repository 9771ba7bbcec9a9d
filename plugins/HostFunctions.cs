using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Plugins;
using Wasmtime;

namespace Kefu.Plugins;

/// <summary>
/// The imports a plugin may use (docs/plugins.md "Imports"), defined once per engine on a shared linker; each call
/// finds its sandbox and call state through the store's data. Everything a guest hands over is bounds-checked; a
/// host function that must stop the guest records why (<see cref="CallState.Stop"/>) and traps it.
/// </summary>
internal static class HostFunctions
{
    public const string HttpClientName = "kefu-plugins";

    // Headers a plugin may not set: Host would reach another virtual host behind an allowed address (a shared proxy or
    // CDN serves many), and the framing headers are the HTTP stack's to write.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Content-Length", "Transfer-Encoding", "Upgrade", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Keep-Alive",
    };

    public static Linker CreateLinker(Engine engine, bool wasi)
    {
        var linker = new Linker(engine);
        linker.DefineFunction(PluginAbi.HostModule, PluginAbi.Emit, new CallerAction<int, int>(Emit));
        linker.DefineFunction(PluginAbi.HostModule, PluginAbi.Log, new CallerAction<int, int, int>(Log));
        linker.DefineFunction(PluginAbi.HostModule, PluginAbi.ConfigGet, new CallerFunc<int, int, int, int>(ConfigGet));
        linker.DefineFunction(PluginAbi.HostModule, PluginAbi.Http, new CallerFunc<int, int, int, int>(Http));
        linker.DefineFunction(PluginAbi.AbortModule, PluginAbi.Abort, new CallerAction<int, int, int, int>(Abort));
        if (wasi)
            linker.DefineWasi();
        return linker;
    }

    /// <summary>WASI with nothing to reach: no preopened directory, no environment, no arguments; output into the log.</summary>
    public static WasiConfiguration SealedWasi(PluginSandbox sandbox) => new WasiConfiguration()
        .WithStandardOutputCallback(data => sandbox.Current?.AppendLog(Encoding.UTF8.GetString(data)))
        .WithStandardErrorCallback(data => sandbox.Current?.AppendLog(Encoding.UTF8.GetString(data)));

    private static (PluginSandbox Sandbox, CallState State, Memory Memory) Context(Caller caller)
    {
        var sandbox = (PluginSandbox)caller.GetData()!;
        var state = sandbox.Current ?? throw new PluginStopException("host call outside a call");
        var memory = sandbox.GuestMemory ?? caller.GetMemory(PluginAbi.Memory) ?? throw state.Stop(PluginErrorCodes.Trap, "no memory");
        return (sandbox, state, memory);
    }

    private static Span<byte> Read(CallState state, Memory memory, int ptr, int len, string what) =>
        state.TryGetSpan(memory, ptr, len, out var span)
            ? span
            : throw state.Stop(PluginErrorCodes.Trap, $"{what}: ({ptr}, {len}) is outside the module's memory");

    private static void Emit(Caller caller, int ptr, int len)
    {
        var (_, state, memory) = Context(caller);
        if (len < 0 || state.EmittedBytes + len > PluginLimits.MaxOutputBytes)
            throw state.Stop(PluginErrorCodes.OutputTooLarge, $"the actions emitted exceed {PluginLimits.MaxOutputBytes} bytes");
        state.Emitted.Add(Read(state, memory, ptr, len, "kefu.emit").ToArray());
        state.EmittedBytes += len;
    }

    private static void Log(Caller caller, int level, int ptr, int len)
    {
        var (_, state, memory) = Context(caller);
        if (state.LogBytes >= PluginLimits.MaxLogBytes)
            return;
        // Read no more than the room left: a guest cannot make the host copy megabytes to throw them away.
        var take = Math.Min(len, PluginLimits.MaxLogBytes - state.LogBytes + 4);
        var text = Encoding.UTF8.GetString(Read(state, memory, ptr, Math.Max(0, take), "kefu.log"));
        var prefix = level switch { 0 => "debug", 1 => "info", 2 => "warn", _ => "error" };
        state.AppendLog($"{prefix}: {text}\n");
    }

    private static int ConfigGet(Caller caller, int keyPtr, int keyLen, int outPtr)
    {
        var (sandbox, state, memory) = Context(caller);
        if (keyLen > 256)
            return PluginAbi.Absent;
        var key = Encoding.UTF8.GetString(Read(state, memory, keyPtr, keyLen, "kefu.config_get"));
        if (sandbox.ConfigValue(key) is not { } bytes)
            return PluginAbi.Absent;
        Hand(caller, state, outPtr, bytes);
        return 0;
    }

    private static int Http(Caller caller, int reqPtr, int reqLen, int outPtr)
    {
        var (sandbox, state, memory) = Context(caller);
        if (reqLen > PluginLimits.MaxInputBytes)
            throw state.Stop(PluginErrorCodes.Trap, "kefu.http: the request is over 128 KiB");
        JsonNode? request;
        try
        {
            request = JsonNode.Parse(Read(state, memory, reqPtr, reqLen, "kefu.http"));
        }
        catch (JsonException e)
        {
            throw state.Stop(PluginErrorCodes.InvalidOutput, "kefu.http: the request is not valid JSON: " + e.Message);
        }
        var url = request?["url"]?.GetValue<string>();
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw state.Stop(PluginErrorCodes.HostDenied, "kefu.http: \"url\" must be an absolute http or https URL");
        if (!sandbox.Manifest.AllowedHosts.Any(h => string.Equals(h, uri.Host, StringComparison.OrdinalIgnoreCase) ||
                                                     string.Equals(h, uri.Authority, StringComparison.OrdinalIgnoreCase)))
            throw state.Stop(PluginErrorCodes.HostDenied, $"kefu.http: host '{uri.Authority}' is not in the manifest's allowed_hosts");
        var left = state.Remaining;
        var factory = sandbox.Owner.HttpClients;
        if (left <= TimeSpan.FromMilliseconds(1) || factory is null)
            return PluginAbi.NoTimeLeft;

        using var message = new HttpRequestMessage(new HttpMethod(request?["method"]?.GetValue<string>() ?? "GET"), uri);
        if (request?["body"]?.GetValue<string>() is { } body)
            message.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (request?["headers"] is JsonObject headers)
            foreach (var (name, value) in headers)
                if (value?.GetValueKind() == JsonValueKind.String && !ReservedHeaders.Contains(name) &&
                    !message.Headers.TryAddWithoutValidation(name, value.GetValue<string>()))
                    message.Content?.Headers.TryAddWithoutValidation(name, value.GetValue<string>());
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(state.CancellationToken);
        timeout.CancelAfter(left);
        try
        {
            // Blocking on purpose: guest code already runs on a thread-pool thread (never the Orleans scheduler), and
            // the guest cannot continue until it has the answer.
            using var response = factory.CreateClient(HttpClientName).Send(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var stream = response.Content.ReadAsStream(timeout.Token);
            var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = stream.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > PluginAbi.MaxHttpResponseBytes)
                    return PluginAbi.ResponseTooLarge;
            }
            var answer = new JsonObject
            {
                ["status"] = (int)response.StatusCode,
                ["headers"] = new JsonObject(response.Headers.Concat(response.Content.Headers)
                    .Select(h => KeyValuePair.Create(h.Key.ToLowerInvariant(), (JsonNode?)string.Join(", ", h.Value)))),
                ["body"] = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length),
            };
            Hand(caller, state, outPtr, Encoding.UTF8.GetBytes(answer.ToJsonString()));
            return 0;
        }
        catch (OperationCanceledException)
        {
            return PluginAbi.NoTimeLeft;
        }
        catch (HttpRequestException)
        {
            return PluginAbi.NetworkError;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or WebException)
        {
            return PluginAbi.NetworkError;
        }
    }

    private static void Abort(Caller caller, int messagePtr, int filePtr, int line, int column)
    {
        var (_, state, memory) = Context(caller);
        var text = AssemblyScriptString(memory, messagePtr) ?? "abort";
        var file = AssemblyScriptString(memory, filePtr);
        throw state.Stop(PluginErrorCodes.Trap, file is null ? $"abort: {text}" : $"abort: {text} ({file}:{line}:{column})");
    }

    /// <summary>Puts host data into guest memory through the guest's own <c>alloc</c>, and (ptr, len) at <paramref name="outPtr"/>.</summary>
    private static void Hand(Caller caller, CallState state, int outPtr, byte[] bytes)
    {
        var alloc = caller.GetFunction(PluginAbi.Alloc)?.WrapFunc<int, int>() ?? throw state.Stop(PluginErrorCodes.AbiMismatch, "no alloc export");
        var ptr = alloc(bytes.Length);
        var memory = caller.GetMemory(PluginAbi.Memory)!; // alloc may have grown (and moved) the memory
        if (!state.TryGetSpan(memory, ptr, bytes.Length, out var target))
            throw state.Stop(PluginErrorCodes.Trap, $"alloc({bytes.Length}) returned {ptr}, outside the module's memory");
        bytes.CopyTo(target);
        if (!state.TryGetSpan(memory, outPtr, 8, out var slot))
            throw state.Stop(PluginErrorCodes.Trap, $"out pointer {outPtr} is outside the module's memory");
        GuestMemory.WritePointer(slot, ptr, bytes.Length);
    }

    // AssemblyScript strings: UTF-16 code units, their byte length in the 4 bytes before the pointer.
    private static string? AssemblyScriptString(Memory memory, int ptr)
    {
        if (ptr < 4 || ptr > memory.GetLength())
            return null;
        var bytes = memory.ReadInt32(ptr - 4);
        if (bytes < 0 || bytes > 2048 || (long)ptr + bytes > memory.GetLength())
            return null;
        return Encoding.Unicode.GetString(memory.GetSpan(ptr, bytes));
    }
}
