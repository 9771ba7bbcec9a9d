using System.Text;
using Kefu.Contracts.Plugins;

namespace Kefu.Grains.Tests.Plugins;

/// <summary>
/// Plugins for the cluster, gateway, storage and browser tests, written in WAT and compiled with
/// <c>Wasmtime.Module.ConvertText</c> (no toolchain): ABI v1 with a bump allocator; <c>process</c> logs <c>log</c> (if
/// any), runs <c>body</c>, then emits each action.
/// </summary>
internal static class TestPlugins
{
    public const string TagOrder = """{"action":"tag","tag":"order"}""";

    public static byte[] Module(
        string[]? actions = null, string body = "", string? log = null, string imports = "", int memoryPages = 1, bool abiMarker = true, int padBytes = 0)
    {
        var data = new StringBuilder();
        var calls = new StringBuilder();
        var offset = 16;
        if (log is not null)
        {
            var bytes = Encoding.UTF8.GetBytes(log);
            data.Append($"(data (i32.const {offset}) \"{Escape(bytes)}\")\n");
            calls.Append($"(call $log (i32.const 1) (i32.const {offset}) (i32.const {bytes.Length}))\n");
            offset += bytes.Length;
        }

        calls.Append(body).Append('\n');
        foreach (var action in actions ?? [])
        {
            var bytes = Encoding.UTF8.GetBytes(action);
            data.Append($"(data (i32.const {offset}) \"{Escape(bytes)}\")\n");
            calls.Append($"(call $emit (i32.const {offset}) (i32.const {bytes.Length}))\n");
            offset += bytes.Length;
        }

        if (padBytes > 0)
        {
            // Bulk that makes the module as large as a real one (a data segment is kept in the .wasm as is).
            data.Append($"(data (i32.const {offset}) \"{new string('k', padBytes)}\")\n");
            offset += padBytes;
        }

        var heap = (offset + 1023) / 1024 * 1024;
        var pages = Math.Max(memoryPages, heap / 65536 + 2);
        return Wasmtime.Module.ConvertText($$"""
            (module
              (import "kefu" "emit" (func $emit (param i32 i32)))
              (import "kefu" "log" (func $log (param i32 i32 i32)))
              {{imports}}
              (memory (export "memory") {{pages}})
              (global $next (mut i32) (i32.const {{heap}}))
              {{data}}
              {{(abiMarker ? "(func (export \"kefu_abi_v1\"))" : "")}}
              (func (export "alloc") (param $len i32) (result i32)
                (local $p i32) (local.set $p (global.get $next))
                (global.set $next (i32.add (global.get $next) (local.get $len)))
                (local.get $p))
              (func (export "process") (param $ptr i32) (param $len i32) (result i32)
                {{calls}}
                (i32.const 0)))
            """);
    }

    /// <summary>A module that runs <paramref name="body"/> then emits each of <paramref name="actions"/> (JSON objects).</summary>
    public static byte[] Emitting(string[] actions, string body = "") => Module(actions, body);

    /// <summary>A module whose process always traps (unreachable).</summary>
    public static byte[] Trapping() => Module([], "(unreachable)");

    public static PluginManifest Manifest(string name, string[] hooks, string onError = PluginManifest.OnErrorAllow, string config = "{}") =>
        new(name, "1", hooks, new PluginLimits(1_000_000, 1_000, 1), false, [], onError, config);

    /// <summary>A manifest JSON (as uploaded) for <paramref name="hooks"/> with optional extra members (e.g. <c>"config": {…}</c>).</summary>
    public static string ManifestJson(string hooks = "\"before_message\", \"after_message\"", string extra = "") =>
        $$"""{"version": "1.0.0", "hooks": [{{hooks}}]{{(extra.Length > 0 ? ", " + extra : "")}}}""";

    private static string Escape(byte[] bytes) =>
        string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7f and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\{b:x2}"));
}
