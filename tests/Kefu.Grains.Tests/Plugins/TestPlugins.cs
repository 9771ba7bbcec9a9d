using System.Text;
using Kefu.Contracts.Plugins;

namespace Kefu.Grains.Tests.Plugins;

/// <summary>Plugins written in WAT for tests (no toolchain): fixed actions, optional code before them.</summary>
internal static class TestPlugins
{
    /// <summary>A module that runs <paramref name="body"/> then emits each of <paramref name="actions"/> (JSON objects).</summary>
    public static byte[] Emitting(string[] actions, string body = "")
    {
        var data = new StringBuilder();
        var calls = new StringBuilder();
        var offset = 16;
        foreach (var action in actions)
        {
            var bytes = Encoding.UTF8.GetBytes(action);
            data.Append($"(data (i32.const {offset}) \"{Escape(bytes)}\")\n");
            calls.Append($"(call $emit (i32.const {offset}) (i32.const {bytes.Length}))\n");
            offset += bytes.Length;
        }
        return Wasmtime.Module.ConvertText($$"""
            (module
              (import "kefu" "emit" (func $emit (param i32 i32)))
              (memory (export "memory") 1)
              (global $next (mut i32) (i32.const {{Math.Max(1024, (offset + 15) / 16 * 16)}}))
              {{data}}
              (func (export "kefu_abi_v1"))
              (func (export "alloc") (param $len i32) (result i32)
                (local $p i32) (local.set $p (global.get $next))
                (global.set $next (i32.add (global.get $next) (local.get $len)))
                (local.get $p))
              (func (export "process") (param $ptr i32) (param $len i32) (result i32)
                {{body}}
                {{calls}}
                (i32.const 0)))
            """);
    }

    /// <summary>A module whose process always traps (unreachable).</summary>
    public static byte[] Trapping() => Emitting([], "(unreachable)");

    public static PluginManifest Manifest(string name, string[] hooks, string onError = PluginManifest.OnErrorAllow, string config = "{}") =>
        new(name, "1", hooks, new PluginLimits(1_000_000, 1_000, 1), false, [], onError, config);

    private static string Escape(byte[] bytes) => string.Concat(bytes.Select(b => b is >= 0x20 and < 0x7f and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\{b:x2}"));
}
