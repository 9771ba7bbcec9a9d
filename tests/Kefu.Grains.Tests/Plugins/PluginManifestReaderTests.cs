using System.Text.Json;
using Kefu.Contracts.Plugins;
using Kefu.Grains.Plugins;

namespace Kefu.Grains.Tests.Plugins;

/// <summary>The JSON manifest of docs/plugins.md "Manifest" read into a <see cref="PluginManifest"/>, or refused naming the field.</summary>
public sealed class PluginManifestReaderTests
{
    [Fact]
    public void A_full_manifest_is_read_with_every_field_and_the_config_kept_as_written()
    {
        const string Json = """
            {
              "name": "order-triage",
              "version": "1.0.0",
              "description": "Tags order questions",
              "hooks": ["before_message", "after_message", "route"],
              "limits": { "fuel": 20000000, "timeout_ms": 250, "memory_mb": 32 },
              "wasi": true,
              "allowed_hosts": ["erp.example.com", "api.example.com:8443"],
              "on_error": "refuse",
              "config": { "tag": "order", "nested": { "n": [1, 2] } }
            }
            """;

        var outcome = PluginManifestReader.Read(Json, "order-triage");

        Assert.True(outcome.IsOk, outcome.Error?.Message);
        var m = outcome.Value!;
        Assert.Equal(("order-triage", "1.0.0", "Tags order questions"), (m.Name, m.Version, m.Description));
        Assert.Equal(PluginHooks.All, m.Hooks);
        Assert.Equal(new PluginLimits(20_000_000, 250, 32), m.Limits);
        Assert.True(m.Wasi);
        Assert.Equal(["erp.example.com", "api.example.com:8443"], m.AllowedHosts);
        Assert.Equal(PluginManifest.OnErrorRefuse, m.OnError);
        Assert.Equal("""{ "tag": "order", "nested": { "n": [1, 2] } }""", m.ConfigJson);
    }

    [Fact]
    public void Only_hooks_is_required_and_everything_else_takes_its_documented_default()
    {
        var outcome = PluginManifestReader.Read("""{"hooks":["after_message"],"description":null}""", "from-url");

        Assert.True(outcome.IsOk, outcome.Error?.Message);
        var m = outcome.Value!;
        Assert.Equal("from-url", m.Name);
        Assert.Equal("0", m.Version);
        Assert.Null(m.Description);
        Assert.Equal(PluginLimits.Default, m.Limits);
        Assert.False(m.Wasi);
        Assert.Empty(m.AllowedHosts);
        Assert.Equal(PluginManifest.OnErrorAllow, m.OnError);
        Assert.Equal("{}", m.ConfigJson);
        Assert.Null(PluginRegistryRules.CheckManifest("from-url", m));
    }

    [Fact]
    public void A_partial_limits_object_keeps_the_defaults_it_does_not_name_and_duplicate_hooks_count_once()
    {
        var m = PluginManifestReader.Read("""{"hooks":["route","route"],"limits":{"timeout_ms":50}}""", "p").Value!;

        Assert.Equal(PluginLimits.Default with { TimeoutMs = 50 }, m.Limits);
        Assert.Equal([PluginHooks.Route], m.Hooks);
    }

    [Theory]
    [InlineData("""{"hooks":["route"],"allowed_host":["a.example"]}""", "unknown field 'allowed_host'")]
    [InlineData("""{"hooks":["route"],"limits":{"timeout":5}}""", "unknown field 'limits.timeout'")]
    [InlineData("""{"hooks":["route"],"wasi":true,"wasi":false}""", "field 'wasi' appears twice")]
    [InlineData("""{"version":"1"}""", "hooks is required")]
    [InlineData("""{"hooks":"route"}""", "hooks must be a list of strings")]
    [InlineData("""{"hooks":["route", 3]}""", "hooks must be a list of strings")]
    [InlineData("""{"hooks":["route"],"version":1}""", "version must be a string")]
    [InlineData("""{"hooks":["route"],"version":""}""", "version must be 1 to 64 characters")]
    [InlineData("""{"hooks":["route"],"wasi":"yes"}""", "wasi must be true or false")]
    [InlineData("""{"hooks":["route"],"allowed_hosts":"a.example"}""", "allowed_hosts must be a list of strings")]
    [InlineData("""{"hooks":["route"],"on_error":false}""", "on_error must be a string")]
    [InlineData("""{"hooks":["route"],"limits":7}""", "limits must be an object")]
    [InlineData("""{"hooks":["route"],"limits":{"fuel":"10"}}""", "limits.fuel must be a whole number")]
    [InlineData("""{"hooks":["route"],"limits":{"fuel":1.5}}""", "limits.fuel must be a whole number")]
    [InlineData("""{"hooks":["route"],"limits":{"timeout_ms":99999999999}}""", "limits.timeout_ms must be a whole number")]
    [InlineData("""{"hooks":["route"],"limits":{"memory_mb":true}}""", "limits.memory_mb must be a whole number")]
    [InlineData("""{"hooks":["route"],"config":"tag=order"}""", "config must be a JSON object")]
    [InlineData("""{"hooks":["route"],"config":[1]}""", "config must be a JSON object")]
    [InlineData("""["route"]""", "the manifest must be a JSON object")]
    [InlineData("""{"hooks":["route"],""", "the manifest is not valid JSON")]
    public void A_bad_manifest_is_refused_with_a_reason_that_names_the_field(string json, string reason)
    {
        var outcome = PluginManifestReader.Read(json, "p");

        Assert.False(outcome.IsOk);
        Assert.Equal(PluginErrorCodes.InvalidManifest, outcome.Error!.Code);
        Assert.Contains(reason, outcome.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_description_over_the_limit_is_refused()
    {
        var json = JsonSerializer.Serialize(new { hooks = new[] { "route" }, description = new string('d', PluginManifestReader.MaxDescriptionLength + 1) });

        Assert.Contains("description must be at most", PluginManifestReader.Read(json, "p").Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_manifests_own_name_is_kept_so_the_registry_can_refuse_a_mismatch_with_the_url()
    {
        var m = PluginManifestReader.Read("""{"name":"other","hooks":["route"]}""", "p").Value!;

        Assert.Equal("other", m.Name);
        Assert.Contains("differs from the name in the URL", PluginRegistryRules.CheckManifest("p", m), StringComparison.Ordinal);
    }
}
