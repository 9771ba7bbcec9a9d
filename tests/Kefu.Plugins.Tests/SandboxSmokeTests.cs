using Kefu.Contracts.Plugins;
using Kefu.Plugins;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Wasmtime;

namespace Kefu.Plugins.Tests;

public sealed class SandboxSmokeTests : IDisposable
{
    private readonly PluginEngine engine = new(Options.Create(new PluginOptions { CacheDirectory = null }), null, NullLogger<PluginEngine>.Instance);

    // A plugin that emits one fixed action, with a bump allocator; $body runs before the emit.
    private static string Module(string body = "", string imports = "", string action = """{"action":"tag","tag":"order"}""") => $$"""
        (module
          (import "kefu" "emit" (func $emit (param i32 i32)))
          {{imports}}
          (memory (export "memory") 1)
          (global $next (mut i32) (i32.const 1024))
          (data (i32.const 16) "{{action.Replace("\"", "\\\"")}}")
          (func (export "kefu_abi_v1"))
          (func (export "alloc") (param $len i32) (result i32)
            (local $p i32) (local.set $p (global.get $next))
            (global.set $next (i32.add (global.get $next) (local.get $len)))
            (local.get $p))
          (func (export "process") (param $ptr i32) (param $len i32) (result i32)
            {{body}}
            (call $emit (i32.const 16) (i32.const {{System.Text.Encoding.UTF8.GetByteCount(action)}}))
            (i32.const 0)))
        """;

    private static PluginManifest Manifest(long fuel = 1_000_000, int timeoutMs = 1_000) =>
        new("smoke", "1", [PluginHooks.AfterMessage], new PluginLimits(fuel, timeoutMs, 1), false, [], PluginManifest.OnErrorAllow, "{}");

    private static byte[] Wasm(string wat) => Wasmtime.Module.ConvertText(wat);

    [Fact]
    public async Task A_call_returns_the_emitted_action()
    {
        using var sandbox = engine.CreateSandbox(Wasm(Module()), Manifest());
        var result = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.AfterMessage, "{}", null), default);
        Assert.True(result.Ok, result.Reason);
        Assert.Equal(PluginActionKinds.Tag, Assert.Single(result.Actions).Kind);
    }

    [Fact]
    public async Task An_endless_loop_is_stopped_by_fuel_and_by_the_clock()
    {
        var wasm = Wasm(Module("(loop (br 0))"));
        using (var sandbox = engine.CreateSandbox(wasm, Manifest(fuel: 100_000)))
        {
            var result = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.AfterMessage, "{}", null), default);
            Assert.Equal(PluginErrorCodes.OutOfFuel, result.ErrorCode);
        }
        using (var sandbox = engine.CreateSandbox(wasm, Manifest(fuel: 1_000_000_000, timeoutMs: 30)))
        {
            var result = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.AfterMessage, "{}", null), default);
            Assert.Equal(PluginErrorCodes.Timeout, result.ErrorCode);
            // The sandbox is usable again afterwards (a fresh instance): the same loop stops the same way.
            var again = await engine.CallAsync(sandbox, new PluginCall(PluginHooks.AfterMessage, "{}", null), default);
            Assert.Equal(PluginErrorCodes.Timeout, again.ErrorCode);
        }
    }

    [Fact]
    public void An_import_outside_the_allow_list_refuses_the_module()
    {
        var problem = engine.Validate(Wasm(Module(imports: """(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))""")), Manifest());
        Assert.Equal(PluginErrorCodes.ImportNotAllowed, problem?.Code);
    }

    public void Dispose() => engine.Dispose();
}
