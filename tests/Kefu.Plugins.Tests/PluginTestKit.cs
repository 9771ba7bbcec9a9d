using System.Text;
using Kefu.Contracts.Plugins;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Plugins.Tests;

/// <summary>Shared pieces of the sandbox tests: engines, manifests, WAT modules and the repository root.</summary>
internal static class PluginTestKit
{
    /// <summary>An engine without an HTTP client factory (kefu.http answers "no time left") and without a disk cache.</summary>
    public static PluginEngine Engine(PluginOptions? options = null) =>
        new(Options.Create(options ?? new PluginOptions { CacheDirectory = null }), null, NullLogger<PluginEngine>.Instance);

    /// <summary>An engine as the silo builds it (<c>AddKefuPlugins</c>): with the kefu.http client.</summary>
    public static ServiceProvider Services()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Kefu:Plugins:CacheDirectory"] = "" })
            .Build();
        return new ServiceCollection().AddLogging().AddKefuPlugins(configuration).BuildServiceProvider();
    }

    public static PluginManifest Manifest(
        string[]? hooks = null, long fuel = 1_000_000, int timeoutMs = 1_000, int memoryMb = 1, bool wasi = false,
        string[]? allowedHosts = null, string config = "{}") =>
        new("test", "1", hooks ?? PluginHooks.All, new PluginLimits(fuel, timeoutMs, memoryMb), wasi, allowedHosts ?? [],
            PluginManifest.OnErrorAllow, config);

    public static byte[] Wasm(string wat) => Wasmtime.Module.ConvertText(wat);

    public static PluginCall Call(string hook = PluginHooks.AfterMessage, string input = "{}", DateTimeOffset? deadline = null) =>
        new(hook, input, deadline);

    /// <summary>A WAT string literal holding <paramref name="text"/> as UTF-8 (every byte escaped: no quoting surprises).</summary>
    public static string Bytes(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var b in Encoding.UTF8.GetBytes(text))
            builder.Append('\\').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        return builder.Append('"').ToString();
    }

    /// <summary>
    /// An ABI v1 module with a bump allocator from 64 KiB (the first page is the module's own data; it starts over when
    /// the memory is used up), the kefu imports,
    /// and <paramref name="process"/> as the body of <c>process(ptr, len) -> i32</c> (it must leave an i32).
    /// </summary>
    public static string Module(string process, string data = "", string extra = "", int pages = 4, string imports = "") => $$"""
        (module
          (import "kefu" "emit" (func $emit (param i32 i32)))
          (import "kefu" "log" (func $log (param i32 i32 i32)))
          (import "kefu" "config_get" (func $config_get (param i32 i32 i32) (result i32)))
          (import "kefu" "http" (func $http (param i32 i32 i32) (result i32)))
          {{imports}}
          (memory (export "memory") {{pages}})
          (global $next (mut i32) (i32.const 65536))
          {{data}}
          (func (export "kefu_abi_v1"))
          (func $alloc (export "alloc") (param $len i32) (result i32)
            (local $p i32)
            ;; wrap around when the memory is used up: kept instances answer thousands of calls
            (if (i32.gt_u (i32.add (global.get $next) (local.get $len)) (i32.mul (memory.size) (i32.const 65536)))
              (then (global.set $next (i32.const 65536))))
            (local.set $p (global.get $next))
            (global.set $next (i32.add (global.get $next) (local.get $len)))
            (local.get $p))
          {{extra}}
          (func (export "process") (param $ptr i32) (param $len i32) (result i32)
            {{process}}))
        """;

    public static DirectoryInfo RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
                return directory;
        throw new InvalidOperationException("No Orleans.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>Polls until <paramref name="condition"/> holds (no fixed sleeps before assertions).</summary>
    public static async Task Until(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                Assert.Fail($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            await Task.Delay(10);
        }
    }
}
