using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using HdrHistogram;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Gateway.Auth;
using Kefu.Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>plugin-isolation</c> (issue #19, docs/performance.md "Plugins: message path and isolation"): the gateway embedded
/// in this process, visitors chatting over real WebSockets in a closed loop (send, wait for the ack). Three measurements:
/// (1) tenant B's ack latency alone, then while tenant A's before_message plugin traps on every one of A's messages
/// (on_error allow: they are still stored); (2) the ack latency of a tenant with a before_message WAT redactor against
/// one without, with 1 KiB messages; (3) the before_message hook grain's own call, with and without the redactor.
/// </summary>
public static class PluginIsolationRun
{
    public const string Usage = """
        plugin-isolation mode: dotnet run -c Release --project tests/Benchmarks -- plugin-isolation [options]
          --messages N        messages each tenant B visitor sends per phase (default 500)
          --visitors N        tenant B's visitors, each its own socket, in a closed loop (default 4)
          --failures N        tenant A's messages through its trapping plugin during the second phase (default 1000)
          --a-visitors N      tenant A's visitors sending them (default 8)
          --message-bytes N   message size (default 1024)
          --no-breaker        the plugin is never suspended (every one of A's calls really runs and traps)
        """;

    private const string Card = "4111 1111 1111 1111";

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var messages = Int(args, "--messages", 500);
        var visitors = Int(args, "--visitors", 4);
        var failures = Int(args, "--failures", 1000);
        var aVisitors = Int(args, "--a-visitors", 8);
        var size = Int(args, "--message-bytes", 1024);
        var noBreaker = args.Contains("--no-breaker");
        if (messages < 1 || visitors < 1 || failures < 1 || aVisitors < 1 || size < 64)
        {
            throw new ArgumentException("--messages, --visitors, --failures and --a-visitors must be positive; --message-bytes at least 64.");
        }

        await using var app = await StartGatewayAsync(noBreaker);
        var ws = new Uri(app.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal) + "/ws");
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        var tokens = app.Services.GetRequiredService<TokenService>();
        var run = Guid.NewGuid().ToString("N")[..8];
        var text = Text(size);

        // Warm-up: the JIT, the first conversations, the compile of the WAT modules.
        var warm = "w" + run;
        await UploadAsync(grains, warm, "redactor", Redactor());
        await ChatAsync(ws, await VisitorsAsync(grains, tokens, warm, visitors), 50, text, cancellationToken);
        await ChatAsync(ws, await VisitorsAsync(grains, tokens, "x" + run, visitors), 50, text, cancellationToken);

        Console.WriteLine("| phase | tenant | messages | ack p50 (ms) | ack p99 (ms) | ack max (ms) | errors |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");

        // 1. Isolation: B alone, then B while A's plugin traps on A's messages.
        var alone = await ChatAsync(ws, await VisitorsAsync(grains, tokens, "b1" + run, visitors), messages, text, cancellationToken);
        Row("B alone (no plugins)", "B", alone);
        var a = "a" + run;
        await UploadAsync(grains, a, "trap", Trapping());
        var aChat = ChatAsync(ws, await VisitorsAsync(grains, tokens, a, aVisitors), (failures + aVisitors - 1) / aVisitors, text, cancellationToken);
        var beside = await ChatAsync(ws, await VisitorsAsync(grains, tokens, "b2" + run, visitors), messages, text, cancellationToken);
        var aResult = await aChat;
        Row("B while A's plugin traps", "B", beside);
        Row("A (plugin traps, on_error allow)", "A", aResult);
        var stats = await grains.GetGrain<IPluginGrain>($"{a}/trap").GetStats();

        // 2. The hook on the message path: a tenant with a before_message redactor against one without.
        var plain = await ChatAsync(ws, await VisitorsAsync(grains, tokens, "p" + run, visitors), messages, text, cancellationToken);
        var hooked = "h" + run;
        await UploadAsync(grains, hooked, "redactor", Redactor());
        var redacted = await ChatAsync(ws, await VisitorsAsync(grains, tokens, hooked, visitors), messages, text, cancellationToken);
        Row("without a plugin", "C", plain);
        Row("with a before_message redactor", "D", redacted);

        // 3. The hook grain's own call, in process (no WebSocket, no conversation).
        var without = await HookCallsAsync(grains, "p" + run, messages * visitors, text);
        var with = await HookCallsAsync(grains, hooked, messages * visitors, text);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"A's plugin: {stats.Calls} calls, {stats.Failures} failed, {stats.ConsecutiveFailures} in a row, suspended: {(stats.SuspendedUntil is null ? "no" : "yes")} (breaker {(noBreaker ? "off" : "on")})."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ack p50/p99 added by the redactor: {(redacted.Latency.GetValueAtPercentile(50) - plain.Latency.GetValueAtPercentile(50)) / 1000.0:F3} / {(redacted.Latency.GetValueAtPercentile(99) - plain.Latency.GetValueAtPercentile(99)) / 1000.0:F3} ms."));
        Console.WriteLine("| hook call (in process) | calls | p50 (µs) | p99 (µs) | max (µs) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| tenant without plugins | {without.TotalCount} | {without.GetValueAtPercentile(50)} | {without.GetValueAtPercentile(99)} | {without.GetMaxValue()} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| tenant with the redactor | {with.TotalCount} | {with.GetValueAtPercentile(50)} | {with.GetValueAtPercentile(99)} | {with.GetMaxValue()} |"));
        var redactor = await grains.GetGrain<IPluginGrain>($"{hooked}/redactor").GetStats();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"The redactor's own calls (sandbox, input copy, output check; the last 256): p99 {redactor.P99Ms * 1000:F0} µs."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores; {size}-byte messages; {visitors} B visitors × {messages} messages per phase; A: {aVisitors} visitors, {aResult.Count} messages."));
        return alone.Errors + beside.Errors + aResult.Errors + plain.Errors + redacted.Errors > 0 ? 3 : 0;
    }

    private static void Row(string phase, string tenant, ChatResult r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {phase} | {tenant} | {r.Count} | {r.Latency.GetValueAtPercentile(50) / 1000.0:F2} | {r.Latency.GetValueAtPercentile(99) / 1000.0:F2} | {r.Latency.GetMaxValue() / 1000.0:F2} | {r.Errors} |"));

    private static int Int(string[] args, string name, int fallback) =>
        BenchHost.Arg(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    /// <summary>A 1 KiB-ish text with a card number in it (what the redactor removes), padded to <paramref name="size"/>.</summary>
    private static string Text(int size) => ("card " + Card + " ").PadRight(size, 'x');

    private sealed record ChatResult(LongHistogram Latency, int Count, int Errors);

    /// <summary>Each visitor on its own socket: send, wait for its ack, send the next (µs latencies of all acks).</summary>
    private static async Task<ChatResult> ChatAsync(Uri ws, string[] visitorTokens, int perVisitor, string text, CancellationToken cancellationToken)
    {
        var results = await Task.WhenAll(visitorTokens.Select(token => Task.Run(async () =>
        {
            var latency = new LongHistogram(60_000_000, 3);
            var errors = 0;
            using var socket = new ClientWebSocket();
            socket.Options.AddSubProtocol("kefu.v1.json");
            await socket.ConnectAsync(new Uri($"{ws}?access_token={Uri.EscapeDataString(token)}"), cancellationToken);
            var buffer = new byte[64 * 1024];
            for (var i = 0; i < perVisitor; i++)
            {
                var id = "m" + i.ToString(CultureInfo.InvariantCulture);
                var frame = JsonSerializer.SerializeToUtf8Bytes(new { type = "send", clientMsgId = id, text });
                var start = Stopwatch.GetTimestamp();
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, cancellationToken);
                while (true)
                {
                    var answer = await ReceiveAsync(socket, buffer, cancellationToken);
                    if (answer.Type == "ack" && answer.ClientMsgId == id)
                    {
                        latency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds));
                        break;
                    }

                    if (answer.Type == "error")
                    {
                        errors++;
                        break;
                    }
                }
            }

            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return (latency, errors);
        }, cancellationToken)));
        var all = new LongHistogram(60_000_000, 3);
        foreach (var (latency, _) in results)
        {
            all.Add(latency);
        }

        return new ChatResult(all, (int)all.TotalCount, results.Sum(r => r.errors));
    }

    private static async Task<IncomingFrame> ReceiveAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("the gateway closed the socket");
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return IncomingFrame.Parse(buffer.AsSpan(0, length));
            }
        }
    }

    private static async Task<LongHistogram> HookCallsAsync(IGrainFactory grains, string tenant, int calls, string text)
    {
        var hook = grains.GetGrain<IBeforeMessageHookGrain>(tenant);
        var input = new BeforeMessageInput(Ulid.NewUlid().ToString(), Tenancy.DefaultInbox, text, "v-bench");
        for (var i = 0; i < 200; i++)
        {
            await hook.Run(input);
        }

        var latency = new LongHistogram(60_000_000, 3);
        for (var i = 0; i < calls; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await hook.Run(input);
            latency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds));
        }

        return latency;
    }

    private static async Task<string[]> VisitorsAsync(IGrainFactory grains, TokenService tokens, string tenant, int count) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            var visitorId = "v-" + i.ToString(CultureInfo.InvariantCulture);
            await grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId)).Register(new VisitorProfile("Bench", null, Tenancy.DefaultInbox, [], DateTimeOffset.UtcNow));
            return tokens.IssueVisitorToken(tenant, visitorId, "Bench").Token;
        }));

    private static async Task UploadAsync(IGrainFactory grains, string tenant, string name, byte[] wasm)
    {
        var manifest = new PluginManifest(name, "1", [PluginHooks.BeforeMessage], PluginLimits.Default, false, [], PluginManifest.OnErrorAllow, "{}");
        var put = await grains.GetGrain<IPluginRegistryGrain>(tenant).Put(new PluginUpload(name, wasm, manifest, "bench"));
        if (!put.IsOk)
        {
            throw new InvalidOperationException($"upload of {name}: {put.Error!.Code} {put.Error.Message}");
        }
    }

    /// <summary>Redacts the card number (a fixed action: the input is still serialized, copied in, and the action parsed and applied).</summary>
    private static byte[] Redactor() => Module("""{"action":"redact","find":"4111 1111 1111 1111"}""", trap: false);

    private static byte[] Trapping() => Module(null, trap: true);

    private static byte[] Module(string? action, bool trap)
    {
        var bytes = action is null ? [] : Encoding.UTF8.GetBytes(action);
        var data = action is null ? "" : $"(data (i32.const 16) \"{action.Replace("\"", "\\\"", StringComparison.Ordinal)}\")";
        var body = trap ? "(unreachable)" : $"(call $emit (i32.const 16) (i32.const {bytes.Length}))";
        return Wasmtime.Module.ConvertText($$"""
            (module
              (import "kefu" "emit" (func $emit (param i32 i32)))
              (memory (export "memory") 1)
              (global $next (mut i32) (i32.const 1024))
              {{data}}
              (func (export "kefu_abi_v1"))
              (func (export "alloc") (param $len i32) (result i32)
                (local $p i32) (local.set $p (global.get $next))
                ;; one call's input at a time: start again at 1024 when the page would overflow
                (if (i32.gt_u (i32.add (local.get $p) (local.get $len)) (i32.const 65536)) (then (local.set $p (i32.const 1024))))
                (global.set $next (i32.add (local.get $p) (local.get $len)))
                (local.get $p))
              (func (export "process") (param $ptr i32) (param $len i32) (result i32)
                {{body}}
                (i32.const 0)))
            """);
    }

    private static Task<WebApplication> StartGatewayAsync(bool noBreaker)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Kefu:WebSocket:FramesPerSecond"] = "100000",
            ["Kefu:WebSocket:FrameBurst"] = "100000",
        };
        if (noBreaker)
        {
            settings["Kefu:Plugins:SuspendAfterFailures"] = int.MaxValue.ToString(CultureInfo.InvariantCulture);
        }

        return BenchHost.StartGatewayAsync("plugins", settings);
    }
}
