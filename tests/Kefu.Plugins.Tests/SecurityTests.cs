using System.Diagnostics;
using System.Text;
using Kefu.Contracts.Plugins;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using static Kefu.Plugins.Tests.PluginTestKit;

namespace Kefu.Plugins.Tests;

/// <summary>
/// What the sandbox promises a tenant's neighbours (docs/plugins.md "Security model"), each from a hostile WAT module:
/// CPU, wall clock, memory, output, imports, WASI, network, cancellation, traps, input and log limits.
/// </summary>
public sealed class SecurityTests(ITestOutputHelper output) : IDisposable
{
    private readonly PluginEngine engine = Engine();

    // For endless loops that only the clock or the caller may stop: fuel for minutes, so running out of it first
    // can only mean the deadline or the cancellation did not work.
    private const long FuelForMinutes = 100_000_000_000;
    private readonly PluginEngine patient = Engine(new PluginOptions { CacheDirectory = null, MaxFuel = long.MaxValue, MaxTimeoutMs = 60_000 });

    // The fixed action a well-behaved call emits (page 0, offset 16).
    private const string OkAction = """{"action":"tag","tag":"ok"}""";
    private static readonly string OkData = $"(data (i32.const 16) {Bytes(OkAction)})";
    private static readonly string EmitOk = $"(call $emit (i32.const 16) (i32.const {Encoding.UTF8.GetByteCount(OkAction)}))";

    private static string Spin => "(loop $spin (br $spin)) (i32.const 0)";

    // ---- CPU and wall clock ----------------------------------------------------------------------------------------

    [Fact]
    public async Task An_endless_loop_is_stopped_by_fuel_the_same_way_every_time()
    {
        using var sandbox = engine.CreateSandbox(Wasm(Module(Spin)), Manifest(fuel: 200_000, timeoutMs: 2_000));
        var first = await engine.CallAsync(sandbox, Call(), default);
        var second = await engine.CallAsync(sandbox, Call(), default);
        Assert.Equal(PluginErrorCodes.OutOfFuel, first.ErrorCode);
        Assert.Equal(PluginErrorCodes.OutOfFuel, second.ErrorCode);
        Assert.Equal(200_000, first.FuelUsed);
        Assert.Equal(first.FuelUsed, second.FuelUsed);
        Assert.True(first.ElapsedMs < 1_000, $"fuel stopped the loop after {first.ElapsedMs} ms");
    }

    [Fact]
    public async Task An_endless_loop_with_fuel_to_spare_is_stopped_by_the_epoch_deadline()
    {
        using var sandbox = patient.CreateSandbox(Wasm(Module(Spin)), Manifest(fuel: FuelForMinutes, timeoutMs: 50));
        var clock = Stopwatch.StartNew();
        var result = await patient.CallAsync(sandbox, Call(), default);
        Assert.Equal(PluginErrorCodes.Timeout, result.ErrorCode);
        Assert.InRange(clock.ElapsedMilliseconds, 45, 2_000);
    }

    [Fact]
    public async Task The_callers_earlier_deadline_wins_over_the_manifests_timeout()
    {
        using var sandbox = patient.CreateSandbox(Wasm(Module(Spin)), Manifest(fuel: FuelForMinutes, timeoutMs: 30_000));
        var clock = Stopwatch.StartNew();
        var result = await patient.CallAsync(sandbox, Call(deadline: DateTimeOffset.UtcNow.AddMilliseconds(40)), default);
        Assert.Equal(PluginErrorCodes.Timeout, result.ErrorCode);
        Assert.True(clock.ElapsedMilliseconds < 2_000, $"stopped after {clock.ElapsedMilliseconds} ms; the deadline was 40 ms, the manifest's 30 s");
    }

    [Fact]
    public void A_start_function_that_never_ends_is_refused_at_upload()
    {
        var wat = Module($"{EmitOk} (i32.const 0)", OkData, extra: "(func $forever (loop $l (br $l))) (start $forever)");
        var problem = engine.Validate(Wasm(wat), Manifest(fuel: 100_000));
        Assert.Equal(PluginErrorCodes.OutOfFuel, problem?.Code);
    }

    [Fact]
    public async Task A_callers_cancellation_stops_a_looping_call_promptly()
    {
        using var sandbox = patient.CreateSandbox(Wasm(Module(Spin)), Manifest(fuel: FuelForMinutes, timeoutMs: 30_000));
        using var cancel = new CancellationTokenSource();
        // The caller gives up 50 ms in, from its own thread (CancelAfter's timer would wait for a thread-pool thread,
        // and the test's guest calls keep those busy).
        var caller = new Thread(() =>
        {
            Thread.Sleep(50);
            cancel.Cancel();
        }) { IsBackground = true };
        var clock = Stopwatch.StartNew();
        caller.Start();
        var result = await patient.CallAsync(sandbox, Call(), cancel.Token);
        Assert.Equal(PluginErrorCodes.Cancelled, result.ErrorCode);
        Assert.True(clock.ElapsedMilliseconds < 2_000, $"cancelled after 50 ms, stopped after {clock.ElapsedMilliseconds} ms (timeout 30 s)");

        // Already cancelled: the guest does not even start.
        var before = await patient.CallAsync(sandbox, Call(), new CancellationToken(canceled: true));
        Assert.Equal(PluginErrorCodes.Cancelled, before.ErrorCode);
    }

    // ---- Memory ----------------------------------------------------------------------------------------------------

    // Input starting with 'b' grows memory by $step pages at a time (touching each new page) until memory.grow says no
    // (−1, the store's cap), then traps as a guest out of memory would.
    private static string MemoryBomb(int step) => Module($"""
        (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 98))
          (then
            (loop $grow
              (if (i32.eq (memory.grow (i32.const {step})) (i32.const -1)) (then unreachable))
              (i32.store (i32.sub (i32.mul (memory.size) (i32.const 65536)) (i32.const 4)) (i32.const 1))
              (br $grow))))
        {EmitOk}
        (i32.const 0)
        """, OkData);

    [Theory]
    [InlineData(2, 1)]
    [InlineData(128, 1)]
    [InlineData(16, 64)]
    public async Task A_memory_bomb_fails_its_call_at_the_cap_and_the_next_call_works(int memoryMb, int step)
    {
        using var sandbox = engine.CreateSandbox(Wasm(MemoryBomb(step)), Manifest(memoryMb: memoryMb, fuel: 100_000_000, timeoutMs: 2_000));
        var bomb = await engine.CallAsync(sandbox, Call(input: "bomb"), default);
        Assert.False(bomb.Ok);
        // Page by page the bomb ends within a page of its cap: Kefu names that plugin_memory_limit. A guest that asks
        // for big steps and traps further from the cap is only known to have trapped (Wasmtime does not say why a
        // memory.grow returned −1).
        if (step == 1)
            Assert.Equal(PluginErrorCodes.MemoryLimit, bomb.ErrorCode);
        else
            Assert.Contains(bomb.ErrorCode, new[] { PluginErrorCodes.MemoryLimit, PluginErrorCodes.Trap });
        var next = await engine.CallAsync(sandbox, Call(), default);
        Assert.True(next.Ok, next.Reason);
        Assert.Equal(OkAction, Assert.Single(next.Actions).Json);
    }

    [Fact]
    public async Task A_trap_in_a_module_declared_at_its_cap_is_a_trap_not_a_memory_limit()
    {
        using var sandbox = engine.CreateSandbox(Wasm(Module("unreachable", pages: 16)), Manifest(memoryMb: 1));
        Assert.Equal(PluginErrorCodes.Trap, (await engine.CallAsync(sandbox, Call(), default)).ErrorCode);
    }

    [Fact]
    public async Task Endless_recursion_is_a_trap_and_the_host_goes_on()
    {
        using var sandbox = engine.CreateSandbox(Wasm(Module("(call $deeper (i32.const 0))", extra: """
            (func $deeper (param $n i32) (result i32) (call $deeper (i32.add (local.get $n) (i32.const 1))))
            """)), Manifest(fuel: 100_000_000));
        var result = await engine.CallAsync(sandbox, Call(), default);
        Assert.Equal(PluginErrorCodes.Trap, result.ErrorCode);
        Assert.Contains("stack", result.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_module_declaring_more_memory_than_its_manifest_allows_is_refused_at_upload()
    {
        var wasm = Wasm(Module($"{EmitOk} (i32.const 0)", OkData, pages: 32)); // 2 MiB
        var problem = engine.Validate(wasm, Manifest(memoryMb: 1));
        Assert.Equal(PluginErrorCodes.MemoryTooLarge, problem?.Code);
        Assert.Null(engine.Validate(wasm, Manifest(memoryMb: 2)));
    }

    [Fact]
    public void A_manifest_asking_for_more_than_the_server_allows_is_refused()
    {
        var wasm = Wasm(Module($"{EmitOk} (i32.const 0)", OkData));
        Assert.Equal(PluginErrorCodes.InvalidManifest, engine.Validate(wasm, Manifest(memoryMb: 129))?.Code);
        Assert.Equal(PluginErrorCodes.InvalidManifest, engine.Validate(wasm, Manifest(fuel: 1_000_000_001))?.Code);
        Assert.Equal(PluginErrorCodes.InvalidManifest, engine.Validate(wasm, Manifest(timeoutMs: 2_001))?.Code);
    }

    // ---- Output, input, log ----------------------------------------------------------------------------------------

    [Fact]
    public async Task More_than_20_KiB_of_actions_fails_the_call()
    {
        var action = $$"""{"action":"tag","tag":"{{new string('x', 1_000)}}"}""";
        var wat = Module($"""
            (local $i i32)
            (loop $again
              (call $emit (i32.const 1024) (i32.const {action.Length}))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $again (i32.lt_u (local.get $i) (i32.const 25))))
            (i32.const 0)
            """, $"(data (i32.const 1024) {Bytes(action)})");
        using var sandbox = engine.CreateSandbox(Wasm(wat), Manifest());
        var result = await engine.CallAsync(sandbox, Call(), default);
        Assert.Equal(PluginErrorCodes.OutputTooLarge, result.ErrorCode);
        Assert.Empty(result.Actions);

        // One emit claiming 21 KiB is refused before Kefu copies a byte of it.
        using var single = engine.CreateSandbox(Wasm(Module("(call $emit (i32.const 0) (i32.const 21504)) (i32.const 0)")), Manifest());
        Assert.Equal(PluginErrorCodes.OutputTooLarge, (await engine.CallAsync(single, Call(), default)).ErrorCode);
    }

    [Fact]
    public async Task Input_over_128_KiB_is_refused_and_128_KiB_is_accepted()
    {
        using var sandbox = engine.CreateSandbox(Wasm(Module($"{EmitOk} (i32.const 0)", OkData)), Manifest());
        var atLimit = await engine.CallAsync(sandbox, Call(input: new string('a', PluginLimits.MaxInputBytes)), default);
        Assert.True(atLimit.Ok, atLimit.Reason);
        var over = await engine.CallAsync(sandbox, Call(input: new string('a', PluginLimits.MaxInputBytes + 1)), default);
        Assert.Equal(PluginErrorCodes.InputTooLarge, over.ErrorCode);
        // Counted in UTF-8 bytes, not characters: 43 691 Chinese characters are 131 073 bytes.
        var chinese = await engine.CallAsync(sandbox, Call(input: new string('订', (PluginLimits.MaxInputBytes / 3) + 1)), default);
        Assert.Equal(PluginErrorCodes.InputTooLarge, chinese.ErrorCode);
    }

    [Theory]
    [InlineData(PluginHooks.AfterMessage, "not json")]
    [InlineData(PluginHooks.AfterMessage, """["tag"]""")]
    [InlineData(PluginHooks.AfterMessage, """{"tag":"x"}""")]
    [InlineData(PluginHooks.AfterMessage, """{"action":"explode"}""")]
    [InlineData(PluginHooks.AfterMessage, """{"action":"tag"}""")]
    [InlineData(PluginHooks.AfterMessage, """{"action":"tag","tag":""}""")]
    [InlineData(PluginHooks.AfterMessage, """{"action":"redact","find":"4111"}""")]
    [InlineData(PluginHooks.AfterMessage, """{"action":"emit","name":"x","data":[1]}""")]
    [InlineData(PluginHooks.BeforeMessage, """{"action":"set","name":"a","value":"b"}""")]
    [InlineData(PluginHooks.BeforeMessage, """{"action":"reply","text":"hi"}""")]
    [InlineData(PluginHooks.Route, """{"action":"replace_text","text":"x"}""")]
    public async Task An_invalid_unknown_or_misplaced_action_fails_the_call(string hook, string action)
    {
        // A valid action first: nothing of a failed call takes effect.
        var wat = Module($"""
            {EmitOk}
            (call $emit (i32.const 1024) (i32.const {Encoding.UTF8.GetByteCount(action)}))
            (i32.const 0)
            """, OkData + $"(data (i32.const 1024) {Bytes(action)})");
        using var sandbox = engine.CreateSandbox(Wasm(wat), Manifest());
        var result = await engine.CallAsync(sandbox, Call(hook), default);
        Assert.Equal(PluginErrorCodes.InvalidOutput, result.ErrorCode);
        Assert.Empty(result.Actions);
    }

    [Fact]
    public async Task The_log_is_cut_at_1_KiB_per_call()
    {
        var line = new string('a', 3_000);
        var wat = Module($"""
            ;; a length far past the end of memory: Kefu reads only what it can keep, so this is no trap
            (call $log (i32.const 3) (i32.const 1024) (i32.const 0x7fffffff))
            (call $log (i32.const 1) (i32.const 1024) (i32.const {line.Length}))
            (call $log (i32.const 2) (i32.const 1024) (i32.const {line.Length}))
            {EmitOk}
            (i32.const 0)
            """, OkData + $"(data (i32.const 1024) {Bytes(line)})");
        using var sandbox = engine.CreateSandbox(Wasm(wat), Manifest());
        var result = await engine.CallAsync(sandbox, Call(), default);
        Assert.True(result.Ok, result.Reason);
        Assert.StartsWith("error: aaaa", result.Log, StringComparison.Ordinal);
        Assert.InRange(Encoding.UTF8.GetByteCount(result.Log), 1_000, PluginLimits.MaxLogBytes);
        Assert.DoesNotContain("info:", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_get_hands_over_string_and_json_values_and_minus_one_for_a_missing_key()
    {
        var wat = Module($"""
            (if (call $config_get (i32.const 100) (i32.const 3) (i32.const 600)) (then (return (i32.const 30))))
            (call $log (i32.const 1) (i32.load (i32.const 600)) (i32.load (i32.const 604)))
            (if (call $config_get (i32.const 110) (i32.const 6) (i32.const 600)) (then (return (i32.const 31))))
            (call $log (i32.const 1) (i32.load (i32.const 600)) (i32.load (i32.const 604)))
            (if (i32.ne (call $config_get (i32.const 120) (i32.const 7) (i32.const 600)) (i32.const -1)) (then (return (i32.const 32))))
            {EmitOk}
            (i32.const 0)
            """, OkData + $"(data (i32.const 100) {Bytes("tag")}) (data (i32.const 110) {Bytes("limits")}) (data (i32.const 120) {Bytes("missing")})");
        using var sandbox = engine.CreateSandbox(Wasm(wat), Manifest(config: """{"tag":"贵宾","limits":{"a":1},"n":5}"""));
        var result = await engine.CallAsync(sandbox, Call(), default);
        Assert.True(result.Ok, result.Reason);
        Assert.Equal("info: 贵宾\ninfo: {\"a\":1}\n", result.Log);
    }

    // ---- Imports and WASI ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("""(import "kefu" "read_file" (func (param i32 i32) (result i32)))""", "kefu.read_file")]
    [InlineData("""(import "env" "system" (func (param i32) (result i32)))""", "env.system")]
    [InlineData("""(import "env" "memory" (memory 1))""", "env.memory")]
    [InlineData("""(import "env" "table" (table 1 funcref))""", "env.table")]
    [InlineData("""(import "kefu" "emit" (func (param i64)))""", "kefu.emit")]
    [InlineData("""(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))""", "needs \"wasi\": true")]
    [InlineData("""(import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))""", "wasi_snapshot_preview1.path_open")]
    public void An_import_outside_the_allow_list_refuses_the_module_at_upload(string import, string named)
    {
        var problem = engine.Validate(Wasm(Module($"{EmitOk} (i32.const 0)", OkData, imports: import)), Manifest());
        Assert.Equal(PluginErrorCodes.ImportNotAllowed, problem?.Code);
        Assert.Contains(named, problem!.Reason, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => engine.CreateSandbox(Wasm(Module($"{EmitOk} (i32.const 0)", OkData, imports: import)), Manifest()));
    }

    [Fact]
    public async Task A_wasi_module_finds_no_files_no_environment_and_no_arguments_and_its_stdout_goes_to_the_log()
    {
        // Something to leak, were the environment inherited.
        Environment.SetEnvironmentVariable("KEFU_PLUGIN_TEST_SECRET", "s3cret");
        const string Imports = """
            (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
            """;
        // Every status names the check that found a way out: 10–14 files, 20–22 environment, 23–24 arguments.
        var wat = Module($"""
            (local $fd i32)
            (local.set $fd (i32.const 3))
            (loop $guess
              (if (i32.eqz (call $fd_prestat_get (local.get $fd) (i32.const 500))) (then (return (i32.const 10))))
              (if (i32.eqz (call $path_open (local.get $fd) (i32.const 0) (i32.const 120) (i32.const 10) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 504))) (then (return (i32.const 11))))
              (if (i32.eqz (call $path_open (local.get $fd) (i32.const 0) (i32.const 100) (i32.const 11) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 504))) (then (return (i32.const 12))))
              (if (i32.eqz (call $fd_read (local.get $fd) (i32.const 300) (i32.const 1) (i32.const 508))) (then (return (i32.const 13))))
              (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
              (br_if $guess (i32.lt_u (local.get $fd) (i32.const 32))))
            ;; stdin is empty when it is readable at all
            (i32.store (i32.const 508) (i32.const 0))
            (if (i32.and (i32.eqz (call $fd_read (i32.const 0) (i32.const 300) (i32.const 1) (i32.const 508))) (i32.ne (i32.load (i32.const 508)) (i32.const 0)))
              (then (return (i32.const 14))))
            (if (call $environ_sizes_get (i32.const 512) (i32.const 516)) (then (return (i32.const 20))))
            (if (i32.load (i32.const 512)) (then (return (i32.const 21))))
            (if (i32.load (i32.const 516)) (then (return (i32.const 22))))
            (if (call $args_sizes_get (i32.const 512) (i32.const 516)) (then (return (i32.const 23))))
            (if (i32.load (i32.const 512)) (then (return (i32.const 24))))
            (drop (call $fd_write (i32.const 1) (i32.const 320) (i32.const 1) (i32.const 508)))
            {EmitOk}
            (i32.const 0)
            """,
            OkData + $"""
                (data (i32.const 100) {Bytes("/etc/passwd")}) (data (i32.const 120) {Bytes("etc/passwd")})
                (data (i32.const 200) {Bytes("hello from wasi\n")})
                (data (i32.const 300) "\90\01\00\00\40\00\00\00") ;; read iovec: 64 bytes at 400
                (data (i32.const 320) "\c8\00\00\00\10\00\00\00") ;; write iovec: 16 bytes at 200
                """,
            imports: Imports);
        var manifest = Manifest(wasi: true);
        Assert.Null(engine.Validate(Wasm(wat), manifest));
        using var sandbox = engine.CreateSandbox(Wasm(wat), manifest);
        var result = await engine.CallAsync(sandbox, Call(), default);
        Assert.True(result.Ok, $"{result.ErrorCode}: {result.Reason}");
        Assert.Contains("hello from wasi", result.Log, StringComparison.Ordinal);
    }

    // ---- Network ---------------------------------------------------------------------------------------------------

    // Sends the call's input as the kefu.http request; logs the response JSON; status 100 + the error code on failure.
    private static readonly string HttpModule = Module($"""
        (local $rc i32)
        (local.set $rc (call $http (local.get $ptr) (local.get $len) (i32.const 600)))
        (if (local.get $rc) (then (return (i32.sub (i32.const 100) (local.get $rc)))))
        (call $log (i32.const 1) (i32.load (i32.const 600)) (i32.load (i32.const 604)))
        {EmitOk}
        (i32.const 0)
        """, OkData);

    [Fact]
    public async Task Kefu_http_reaches_only_the_manifests_allowed_hosts()
    {
        var hits = 0;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/orders/{id}", (string id) =>
        {
            Interlocked.Increment(ref hits);
            return Results.Text($"order {id} shipped");
        });
        app.MapGet("/host", (HttpRequest request) =>
        {
            Interlocked.Increment(ref hits);
            return Results.Text("host=" + request.Host.Value);
        });
        app.MapGet("/redirect", () =>
        {
            Interlocked.Increment(ref hits);
            return Results.Redirect("http://example.com/elsewhere");
        });
        await app.StartAsync();
        var server = new Uri(app.Urls.First());
        using var services = Services();
        var http = services.GetRequiredService<PluginEngine>();
        string Request(string url) => $$$"""{"method":"GET","url":"{{{url}}}","headers":{"accept":"text/plain"}}""";

        // Not allowed: another host, a bare IP when only a name is listed, a scheme other than http(s).
        foreach (var (allowed, url) in new[]
                 {
                     ("example.com", $"http://127.0.0.1:{server.Port}/orders/1"),
                     ("localhost", $"http://127.0.0.1:{server.Port}/orders/1"),
                     ($"127.0.0.1:{server.Port + 1}", $"http://127.0.0.1:{server.Port}/orders/1"),
                     ("127.0.0.1", "file:///etc/passwd"),
                 })
        {
            using var denied = http.CreateSandbox(Wasm(HttpModule), Manifest(allowedHosts: [allowed]));
            var result = await http.CallAsync(denied, Call(input: Request(url)), default);
            Assert.Equal(PluginErrorCodes.HostDenied, result.ErrorCode);
        }
        Assert.Equal(0, hits);

        // Allowed by host:port and by host alone.
        foreach (var allowed in new[] { $"127.0.0.1:{server.Port}", "127.0.0.1" })
        {
            using var sandbox = http.CreateSandbox(Wasm(HttpModule), Manifest(allowedHosts: [allowed], timeoutMs: 2_000));
            var result = await http.CallAsync(sandbox, Call(input: Request($"http://127.0.0.1:{server.Port}/orders/7")), default);
            Assert.True(result.Ok, $"{result.ErrorCode}: {result.Reason}");
            Assert.Contains("\"status\":200", result.Log, StringComparison.Ordinal);
            Assert.Contains("order 7 shipped", result.Log, StringComparison.Ordinal);
        }
        Assert.Equal(2, hits);

        // The plugin cannot name another virtual host than the URL's (a shared proxy behind an allowed address).
        using (var sandbox = http.CreateSandbox(Wasm(HttpModule), Manifest(allowedHosts: ["127.0.0.1"], timeoutMs: 2_000)))
        {
            var request = $$$"""{"url":"http://127.0.0.1:{{{server.Port}}}/host","headers":{"Host":"internal.example","x-trace":"1"}}""";
            var result = await http.CallAsync(sandbox, Call(input: request), default);
            Assert.True(result.Ok, $"{result.ErrorCode}: {result.Reason}");
            Assert.Contains($"host=127.0.0.1:{server.Port}", result.Log, StringComparison.Ordinal);
        }

        // A redirect is handed to the plugin, never followed (it could lead to a host the manifest does not allow).
        using (var sandbox = http.CreateSandbox(Wasm(HttpModule), Manifest(allowedHosts: ["127.0.0.1"], timeoutMs: 2_000)))
        {
            var result = await http.CallAsync(sandbox, Call(input: Request($"http://127.0.0.1:{server.Port}/redirect")), default);
            Assert.True(result.Ok, $"{result.ErrorCode}: {result.Reason}");
            Assert.Contains("\"status\":302", result.Log, StringComparison.Ordinal);
        }
        Assert.Equal(4, hits);
        await app.StopAsync();
    }

    // ---- Traps -----------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_trap_drops_the_instance_and_the_next_call_gets_a_fresh_one()
    {
        // Input 't' poisons the instance's state and traps; a normal call refuses to run on a poisoned instance.
        var wat = Module($"""
            (if (global.get $poisoned) (then (return (i32.const 7))))
            (if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 116))
              (then (global.set $poisoned (i32.const 1)) unreachable))
            {EmitOk}
            (i32.const 0)
            """, OkData + "(global $poisoned (mut i32) (i32.const 0))");
        using var sandbox = engine.CreateSandbox(Wasm(wat), Manifest());
        Assert.True((await engine.CallAsync(sandbox, Call(), default)).Ok);
        var trap = await engine.CallAsync(sandbox, Call(input: "trap"), default);
        Assert.Equal(PluginErrorCodes.Trap, trap.ErrorCode);
        Assert.Contains("unreachable", trap.Reason, StringComparison.OrdinalIgnoreCase);
        var next = await engine.CallAsync(sandbox, Call(), default);
        Assert.True(next.Ok, $"{next.ErrorCode}: {next.Reason}");
    }

    [Fact]
    public async Task A_thousand_traps_in_a_row_leave_other_sandboxes_correct_and_memory_flat()
    {
        // Each trapping call first dirties 1 MiB of its instance's memory: a leaked instance would show in the RSS.
        var trapping = Module("""
            (memory.fill (i32.const 65536) (i32.const 171) (i32.const 1048576))
            unreachable
            """, pages: 20);
        var good = Module($"{EmitOk} (i32.const 0)", OkData);
        using var storm = engine.CreateSandbox(Wasm(trapping), Manifest(memoryMb: 2, fuel: 100_000_000));
        var neighbours = Enumerable.Range(0, 3).Select(_ => engine.CreateSandbox(Wasm(good), Manifest())).ToArray();
        try
        {
            async Task<double[]> Neighbours(Func<bool> goOn)
            {
                var latencies = new List<double>();
                for (var i = 0; goOn() || i < 300; i++)
                {
                    var clock = Stopwatch.StartNew();
                    var result = await engine.CallAsync(neighbours[i % neighbours.Length], Call(), default);
                    if (latencies.Count < 100_000) // enough for a p99, and the list itself must not swell the RSS measured
                        latencies.Add(clock.Elapsed.TotalMicroseconds);
                    Assert.True(result.Ok, $"neighbour call {i}: {result.ErrorCode}: {result.Reason}");
                    Assert.Equal(PluginActionKinds.Tag, Assert.Single(result.Actions).Kind);
                }
                return [.. latencies];
            }

            async Task Traps(int count)
            {
                for (var i = 0; i < count; i++)
                    Assert.Equal(PluginErrorCodes.Trap, (await engine.CallAsync(storm, Call(), default)).ErrorCode);
            }

            var quiet = await Neighbours(() => false);
            await Traps(100); // the allocator's steady state
            var before = Rss();

            var trapsDone = false;
            var traps = Task.Run(async () =>
            {
                try
                {
                    await Traps(1_000);
                }
                finally
                {
                    trapsDone = true;
                }
            });
            var during = await Neighbours(() => !Volatile.Read(ref trapsDone));
            await traps;
            var after = Rss();

            Assert.Equal(1_100, storm.Calls);
            output.WriteLine($"neighbour calls: quiet p50 {Percentile(quiet, 50):F0} µs p99 {Percentile(quiet, 99):F0} µs; " +
                             $"during 1 000 traps ({during.Length} calls) p50 {Percentile(during, 50):F0} µs p99 {Percentile(during, 99):F0} µs");
            output.WriteLine($"RSS before {before / 1048576.0:F1} MiB, after {after / 1048576.0:F1} MiB");
            // A leaked instance costs over 1 MiB here, so 1 000 leaks would be over 1 GiB; allocator noise is far below 100.
            Assert.True(after - before < 100L * 1024 * 1024, $"RSS grew by {(after - before) / 1048576.0:F1} MiB over 1 000 trapping calls");
        }
        finally
        {
            foreach (var sandbox in neighbours)
                sandbox.Dispose();
        }
    }

    private static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static double Percentile(double[] values, double percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * percentile / 100) - 1, 0, sorted.Length - 1)];
    }

    public void Dispose()
    {
        engine.Dispose();
        patient.Dispose();
    }
}
