using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HdrHistogram;
using Kefu.Contracts.Plugins;
using Kefu.Plugins;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>plugins</c>: what a WebAssembly plugin costs on the message path (docs/performance.md "Plugins", target ≤ 50 µs
/// added at p99 for a 1 KiB message with the sample plugin's before_message hook), what a fresh instance costs, and
/// compiling a module against finding it in the memory or disk cache. In process, through
/// <see cref="PluginEngine.CallAsync"/> exactly as the grains call it (thread pool, the process-wide gate).
/// </summary>
public static class PluginsRun
{
    public const string Usage = """
        plugins mode: dotnet run -c Release --project tests/Benchmarks -- plugins [options]
          --wasm PATH         the plugin (default samples/plugins/order-triage/build/order-triage.wasm; build it with its build.sh)
          --calls N           measured calls per case (default 100000, after a fifth as many and at least 3 s for warm-up)
          --message-bytes B   UTF-8 size of the message text (default 1024; Chinese and English with one card number)
          --fresh N           fresh sandboxes for the instantiation case (default 2000)
          --compiles N        cold compiles for the compile case (default 5)
        """;

    public const double TargetP99Microseconds = 50;

    // An ABI v1 plugin that does nothing: the engine's own share of a call (gate, thread pool hop, copy-in, checks).
    private const string EmptyPlugin = """
        (module
          (import "kefu" "emit" (func $emit (param i32 i32)))
          (memory (export "memory") 3)
          (func (export "kefu_abi_v1"))
          (func (export "alloc") (param i32) (result i32) (i32.const 65536))
          (func (export "process") (param i32 i32) (result i32) (i32.const 0)))
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var wasmPath = BenchHost.Arg(args, "--wasm") ?? Path.Combine(RepositoryRoot(), "samples", "plugins", "order-triage", "build", "order-triage.wasm");
        var calls = int.Parse(BenchHost.Arg(args, "--calls") ?? "100000", CultureInfo.InvariantCulture);
        var messageBytes = int.Parse(BenchHost.Arg(args, "--message-bytes") ?? "1024", CultureInfo.InvariantCulture);
        var fresh = int.Parse(BenchHost.Arg(args, "--fresh") ?? "2000", CultureInfo.InvariantCulture);
        var compiles = int.Parse(BenchHost.Arg(args, "--compiles") ?? "5", CultureInfo.InvariantCulture);
        if (calls < 1000 || messageBytes < 64 || fresh < 10 || compiles < 1)
            throw new ArgumentException("--calls at least 1000, --message-bytes at least 64, --fresh at least 10, --compiles at least 1.");
        if (!File.Exists(wasmPath))
            throw new InvalidOperationException($"{wasmPath} is missing: run samples/plugins/order-triage/build.sh");
        var wasm = await File.ReadAllBytesAsync(wasmPath);
        var manifest = new PluginManifest("order-triage", "1", [PluginHooks.BeforeMessage, PluginHooks.AfterMessage, PluginHooks.Route],
            PluginLimits.Default, false, [], PluginManifest.OnErrorAllow, """{"tag":"order","with":"[card]"}""");

        var text = MessageText(messageBytes);
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture,
            $"plugins: {Path.GetFileName(wasmPath)} ({wasm.Length} bytes), {Encoding.UTF8.GetByteCount(text)}-byte message, {calls} calls per case after ≥ {calls / 5} (≥ 3 s) warm-up, {Environment.ProcessorCount} cores, load average {LoadAverage()}, .NET {Environment.Version}");
        report.AppendLine();
        report.AppendLine("| case | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | mean µs |");
        report.AppendLine("|---|---|---|---|---|---|---|");

        using var engine = new PluginEngine(Options.Create(new PluginOptions { CacheDirectory = null }), null, NullLogger<PluginEngine>.Instance);
        var problem = engine.Validate(wasm, manifest);
        if (problem is not null)
            throw new InvalidOperationException($"the module does not validate: {problem.Code}: {problem.Reason}");

        // Redacting is the work the message path waits for; the result must be right, or the numbers mean nothing.
        using var sandbox = engine.CreateSandbox(wasm, manifest);
        var check = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.BeforeMessage, Input(text), null), default);
        if (!check.Ok || !PluginOutputReader.ApplyText(text, check.Actions).Contains("[card]", StringComparison.Ordinal))
            throw new InvalidOperationException($"the plugin did not redact the card: {check.ErrorCode} {check.Reason}");

        var input = Input(text);
        var hookOnly = await Measure(calls, () => engine.CallAsync(sandbox, new PluginCall(PluginHooks.BeforeMessage, input, null), default));
        Row(report, "before_message, kept instance: CallAsync only (input prepared)", hookOnly);

        var onPath = await Measure(calls, async () =>
        {
            // What the message path adds: the hook's input JSON, the call, applying its actions to the text.
            var result = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.BeforeMessage, Input(text), DateTimeOffset.UtcNow.AddMilliseconds(100)), default);
            GC.KeepAlive(PluginOutputReader.ApplyText(text, result.Actions));
            return result;
        });
        Row(report, "before_message, kept instance: input JSON + CallAsync + apply redactions (**the added cost**)", onPath);

        using (var empty = engine.CreateSandbox(Wasmtime.Module.ConvertText(EmptyPlugin), manifest))
        {
            var emptyInput = Input(text);
            Row(report, "empty plugin (engine share: gate, thread-pool hop, copy-in)", await Measure(calls, () => engine.CallAsync(empty, new PluginCall(PluginHooks.BeforeMessage, emptyInput, null), default)));
        }

        var fuel = check.FuelUsed;
        var firstCalls = new LongHistogram(10_000_000, 3);
        var creates = new LongHistogram(10_000_000, 3);
        for (var i = 0; i < fresh + (fresh / 5); i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var newSandbox = engine.CreateSandbox(wasm, manifest);
            var created = Stopwatch.GetTimestamp();
            var result = await engine.CallAsync(newSandbox, new PluginCall(PluginHooks.BeforeMessage, input, null), default);
            var done = Stopwatch.GetTimestamp();
            if (!result.Ok)
                throw new InvalidOperationException($"fresh sandbox call failed: {result.ErrorCode} {result.Reason}");
            if (i < fresh / 5)
                continue;
            creates.RecordValue(Micros(start, created));
            firstCalls.RecordValue(Micros(created, done));
        }
        Row(report, "fresh sandbox: CreateSandbox (SHA-256 + memory cache hit)", creates);
        Row(report, "fresh sandbox: first call (instantiate + call)", firstCalls);

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"fuel per before_message call: {fuel:N0} of {manifest.Limits.Fuel:N0}");
        report.AppendLine();
        report.AppendLine("| compile case | median ms | min ms | max ms |");
        report.AppendLine("|---|---|---|---|");
        var cold = new List<double>();
        var memoryHit = new List<double>();
        var diskHit = new List<double>();
        for (var i = 0; i < compiles; i++)
        {
            var cache = Path.Combine(Path.GetTempPath(), "kefu-bench-plugins-" + Guid.NewGuid().ToString("N"));
            try
            {
                using (var first = new PluginEngine(Options.Create(new PluginOptions { CacheDirectory = cache }), null, NullLogger<PluginEngine>.Instance))
                {
                    cold.Add(Time(() => first.CreateSandbox(wasm, manifest).Dispose()));
                    memoryHit.Add(Time(() => first.CreateSandbox(wasm, manifest).Dispose()));
                }
                using var restarted = new PluginEngine(Options.Create(new PluginOptions { CacheDirectory = cache }), null, NullLogger<PluginEngine>.Instance);
                diskHit.Add(Time(() => restarted.CreateSandbox(wasm, manifest).Dispose()));
            }
            finally
            {
                Directory.Delete(cache, recursive: true);
            }
        }
        CompileRow(report, "compile (cold engine, empty cache) + serialize to the disk cache", cold);
        CompileRow(report, "memory cache hit (same engine)", memoryHit);
        CompileRow(report, "disk cache hit (new engine = a restarted silo): deserialize", diskHit);

        var p99 = onPath.GetValueAtPercentile(99);
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"added cost at p99: {p99} µs: target ≤ {TargetP99Microseconds} µs {(p99 <= TargetP99Microseconds ? "met" : "NOT met")}");
        Console.Write(report.ToString());
        return p99 <= TargetP99Microseconds ? 0 : 3;
    }

    /// <summary>A visitor's message of about <paramref name="bytes"/> UTF-8 bytes: Chinese and English, one card number.</summary>
    private static string MessageText(int bytes)
    {
        var text = new StringBuilder("你好，我的订单 8812345 还没有发货，我用的卡是 4111 1111 1111 1111，请帮我查一下物流。Hello, where is my parcel? ");
        const string filler = "谢谢 thanks ";
        while (Encoding.UTF8.GetByteCount(text.ToString()) + Encoding.UTF8.GetByteCount(filler) <= bytes)
            text.Append(filler);
        while (Encoding.UTF8.GetByteCount(text.ToString()) < bytes)
            text.Append('.');
        return text.ToString();
    }

    // Non-ASCII as UTF-8, as the message path writes it (fewer bytes to copy and scan than \uXXXX escapes).
    private static readonly JavaScriptEncoder Relaxed = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The hook input as docs/plugins.md "Input" shows it, written the way a hot path would (Utf8JsonWriter).</summary>
    private static string Input(string text)
    {
        var buffer = new ArrayBufferWriter<byte>(Encoding.UTF8.GetMaxByteCount(text.Length) + 512);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Relaxed }))
        {
            json.WriteStartObject();
            json.WriteNumber("abi", 1);
            json.WriteString("hook", PluginHooks.BeforeMessage);
            json.WriteString("tenant", "default");
            json.WriteString("plugin", "order-triage");
            json.WritePropertyName("config");
            json.WriteRawValue("""{"tag":"order","with":"[card]"}""", skipInputValidation: true);
            json.WriteNumber("time_left_ms", 100);
            json.WriteStartObject("message");
            json.WriteString("conversation_id", "01JCONVERSATION0000000000");
            json.WriteString("inbox", "web");
            json.WriteString("text", text);
            json.WriteStartObject("sender");
            json.WriteString("role", "visitor");
            json.WriteString("id", "v-1");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static async Task<LongHistogram> Measure(int calls, Func<Task<PluginCallResult>> call)
    {
        // Warm-up long enough for tiered JIT to reach optimized code (by count alone, 20 000 calls take ~0.3 s: the
        // first case then measured partly tier-0 code).
        var warmUp = Stopwatch.StartNew();
        for (var i = 0; i < calls / 5 || warmUp.Elapsed < TimeSpan.FromSeconds(3); i++)
            await Check(call());
        var histogram = new LongHistogram(10_000_000, 3);
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await Check(call());
            histogram.RecordValue(Micros(start, Stopwatch.GetTimestamp()));
        }
        return histogram;
    }

    private static async Task Check(Task<PluginCallResult> call)
    {
        var result = await call;
        if (!result.Ok)
            throw new InvalidOperationException($"a measured call failed: {result.ErrorCode} {result.Reason}");
    }

    private static long Micros(long from, long to) => Math.Max(1, (long)Math.Round(Stopwatch.GetElapsedTime(from, to).TotalMicroseconds));

    private static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static void Row(StringBuilder report, string name, LongHistogram h) =>
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {h.GetValueAtPercentile(50)} | {h.GetValueAtPercentile(90)} | {h.GetValueAtPercentile(99)} | {h.GetValueAtPercentile(99.9)} | {h.GetMaxValue()} | {h.GetMean():F1} |");

    private static void CompileRow(StringBuilder report, string name, List<double> values)
    {
        var sorted = values.Order().ToArray();
        report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {sorted[sorted.Length / 2]:F2} | {sorted[0]:F2} | {sorted[^1]:F2} |");
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
                    return directory.FullName;
        return Directory.GetCurrentDirectory();
    }
}
