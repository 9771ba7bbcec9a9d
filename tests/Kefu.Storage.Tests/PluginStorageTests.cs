using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Tests.Plugins;
using Kefu.Plugins;
using Kefu.Storage.Tests.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Storage.Tests;

/// <summary>
/// Cluster mode: an uploaded plugin is grain state in MySQL — the registry's entry and, in a row of its own, the module's
/// bytes — so a plugin of realistic size (over 1 MiB) survives a restart of every silo and still runs.
/// </summary>
public sealed class PluginStorageTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    private const int PadBytes = 1_200_000;

    [Fact]
    public async Task A_plugin_over_a_mebibyte_survives_a_restart_of_the_cluster_and_still_runs()
    {
        var names = ClusterNames.New();
        var tenant = "t" + Guid.NewGuid().ToString("N")[..12];
        var wasm = Module();
        Assert.True(wasm.Length > 1024 * 1024, $"the module is only {wasm.Length} bytes");
        // A routing plugin: this silo has only what plugins need (an after_message plugin would start the tenant's
        // event-log reader, which needs the whole grain set).
        var manifest = new PluginManifest("big", "1", [PluginHooks.Route], new PluginLimits(1_000_000, 1_000, 4), false, [],
            PluginManifest.OnErrorAllow, """{"tag":"order"}""");
        var call = new PluginCall(PluginHooks.Route, """{"event":{"type":"order_status"}}""", null);
        PluginInfo uploaded;
        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, Configure));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            var put = await client.Cluster.GetGrain<IPluginRegistryGrain>(tenant).Put(new PluginUpload("big", wasm, manifest, "admin"));
            Assert.True(put.IsOk, put.Error?.Message);
            uploaded = put.Value!;
            var first = await client.Cluster.GetGrain<IPluginGrain>($"{tenant}/big").Call(call);
            Assert.True(first.Ok, first.Reason);
        }

        // Every silo is gone (and with it every compiled module: the engine's cache is memory only here).
        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, Configure));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            var registry = client.Cluster.GetGrain<IPluginRegistryGrain>(tenant);
            var listed = Assert.Single(await registry.List());
            Assert.Equal((uploaded.Sha256, wasm.Length, 1, true), (listed.Sha256, (int)listed.SizeBytes, listed.Revision, listed.Enabled));
            Assert.Equal("""{"tag":"order"}""", listed.Manifest.ConfigJson);
            var module = await registry.GetModule("big");
            Assert.NotNull(module);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(wasm)), Convert.ToHexStringLower(SHA256.HashData(module.Wasm)));
            Assert.Equal([PluginHooks.Route], listed.Manifest.Hooks);

            var result = await client.Cluster.GetGrain<IPluginGrain>($"{tenant}/big").Call(call);
            Assert.True(result.Ok, result.Reason);
            Assert.Equal("""{"action":"tag","tag":"order"}""", Assert.Single(result.Actions).Json);
        }
    }

    private static void Configure(Orleans.Hosting.ISiloBuilder silo)
    {
        silo.Services.TryAddSingleton(TimeProvider.System);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Kefu:Plugins:CacheDirectory"] = "" })
            .Build();
        silo.Services.AddKefuPlugins(configuration);
    }

    /// <summary>ABI v1 that emits one tag, with a data segment that makes the module as large as a real one.</summary>
    private static byte[] Module() => TestPlugins.Module([TestPlugins.TagOrder], padBytes: PadBytes);
}
