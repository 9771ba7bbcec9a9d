using Kefu.Contracts.Grains;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Plugins;

[Collection(DefaultClusterCollection.Name)]
public sealed class PluginGrainTests(DefaultClusterFixture fixture)
{
    [Fact]
    public async Task An_uploaded_plugin_runs_and_a_new_revision_replaces_it()
    {
        var tenant = Scenario.NewTenant();
        var registry = fixture.Client.GetGrain<IPluginRegistryGrain>(tenant);
        var put = await registry.Put(new PluginUpload("tagger", TestPlugins.Emitting(["""{"action":"tag","tag":"first"}"""]),
            TestPlugins.Manifest("tagger", [PluginHooks.AfterMessage]), "admin"));
        Assert.True(put.IsOk, put.Error?.Message);
        Assert.Equal(1, put.Value!.Revision);

        var plugin = fixture.Client.GetGrain<IPluginGrain>($"{tenant}/tagger");
        var first = await plugin.Call(new PluginCall(PluginHooks.AfterMessage, """{"message":{"text":"hi"}}""", null));
        Assert.True(first.Ok, first.Reason);
        Assert.Contains("first", Assert.Single(first.Actions).Json);

        await registry.Put(new PluginUpload("tagger", TestPlugins.Emitting(["""{"action":"tag","tag":"second"}"""]),
            TestPlugins.Manifest("tagger", [PluginHooks.AfterMessage]), "admin"));
        var second = await plugin.Call(new PluginCall(PluginHooks.AfterMessage, "{}", null));
        Assert.Contains("second", Assert.Single(second.Actions).Json);

        Assert.Equal(PluginErrorCodes.HookNotDeclared, (await plugin.Call(new PluginCall(PluginHooks.BeforeMessage, "{}", null))).ErrorCode);
        Assert.True((await registry.SetEnabled("tagger", false, "admin")).IsOk);
        Assert.Equal(PluginErrorCodes.Disabled, (await plugin.Call(new PluginCall(PluginHooks.AfterMessage, "{}", null))).ErrorCode);
        Assert.Empty((await registry.GetHooks()).AfterMessage);
    }

    [Fact]
    public async Task A_module_that_breaks_the_abi_is_refused_and_a_failing_plugin_is_suspended()
    {
        var tenant = Scenario.NewTenant();
        var registry = fixture.Client.GetGrain<IPluginRegistryGrain>(tenant);
        var bad = await registry.Put(new PluginUpload("bad", Wasmtime.Module.ConvertText("(module (memory (export \"memory\") 1))"),
            TestPlugins.Manifest("bad", [PluginHooks.AfterMessage]), "admin"));
        Assert.Equal(PluginErrorCodes.AbiMismatch, bad.Error?.Code);

        Assert.True((await registry.Put(new PluginUpload("trap", TestPlugins.Trapping(), TestPlugins.Manifest("trap", [PluginHooks.AfterMessage]), "admin"))).IsOk);
        var plugin = fixture.Client.GetGrain<IPluginGrain>($"{tenant}/trap");
        for (var i = 0; i < 20; i++)
            Assert.Equal(PluginErrorCodes.Trap, (await plugin.Call(new PluginCall(PluginHooks.AfterMessage, "{}", null))).ErrorCode);
        Assert.Equal(PluginErrorCodes.Suspended, (await plugin.Call(new PluginCall(PluginHooks.AfterMessage, "{}", null))).ErrorCode);
        Assert.Equal(20, (await plugin.GetStats()).ConsecutiveFailures);
    }
}
