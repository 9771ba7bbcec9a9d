using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Plugins;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Tests.Plugins;

namespace Kefu.Gateway.Tests.Plugins;

/// <summary>A gateway of its own with a small module limit, so the size refusals need no megabytes.</summary>
public sealed class PluginGatewayFixture : GatewayFixture
{
    public const int MaxModuleBytes = 128 * 1024;

    protected override bool StaffDefaultInbox => false;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Plugins:MaxModuleBytes"] = MaxModuleBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Kefu:Plugins:CacheDirectory"] = "",
    };
}

[CollectionDefinition(Name)]
public sealed class PluginGatewayCollection : ICollectionFixture<PluginGatewayFixture>
{
    public const string Name = "plugin-gateway";
}

/// <summary>
/// The plugins API (docs/plugins.md "Upload and manage"): admins upload a module with its manifest (new plugin 201, new
/// revision 200), refusals carry the registry's code, the list never shows module bytes or config values, plugins are
/// enabled, disabled and deleted, and the test endpoint answers one call's actions, log or failure.
/// </summary>
[Collection(PluginGatewayCollection.Name)]
public sealed class PluginsApiTests(PluginGatewayFixture gateway)
{
    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    public static MultipartFormDataContent Upload(byte[] wasm, string manifest, bool manifestAsFile = true)
    {
        var form = new MultipartFormDataContent();
        var module = new ByteArrayContent(wasm);
        module.Headers.ContentType = new MediaTypeHeaderValue("application/wasm");
        form.Add(module, "module", "plugin.wasm");
        if (manifestAsFile)
        {
            var json = new StringContent(manifest, Encoding.UTF8, "application/json");
            form.Add(json, "manifest", "manifest.json");
        }
        else
        {
            form.Add(new StringContent(manifest), "manifest");
        }

        return form;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? detail = null)
    {
        var problem = await JsonAsync(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, problem.GetProperty("code").GetString());
        if (detail is not null)
        {
            Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_upload_is_created_then_a_new_upload_is_revision_two_with_its_hash()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var name = NewName("tagger");
        var first = TestPlugins.Module([TestPlugins.TagOrder]);

        var created = await admin.PutAsync($"/api/v1/plugins/{name}", Upload(first, TestPlugins.ManifestJson(extra: "\"description\": \"Tags orders\"")));
        var plugin = await JsonAsync(created, HttpStatusCode.Created);
        Assert.Equal($"/api/v1/plugins/{name}", created.Headers.Location?.OriginalString);
        Assert.Equal(name, plugin.GetProperty("name").GetString());
        Assert.Equal(1, plugin.GetProperty("revision").GetInt32());
        Assert.True(plugin.GetProperty("enabled").GetBoolean());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(first)), plugin.GetProperty("sha256").GetString());
        Assert.Equal(first.Length, plugin.GetProperty("sizeBytes").GetInt64());
        Assert.Equal("admin", plugin.GetProperty("uploadedBy").GetString());
        var manifest = plugin.GetProperty("manifest");
        Assert.Equal(("1.0.0", "Tags orders"), (manifest.GetProperty("version").GetString(), manifest.GetProperty("description").GetString()));
        Assert.Equal([PluginHooks.BeforeMessage, PluginHooks.AfterMessage], manifest.GetProperty("hooks").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(PluginLimits.Default.Fuel, manifest.GetProperty("limits").GetProperty("fuel").GetInt64());
        Assert.Equal("allow", manifest.GetProperty("on_error").GetString());

        // The same name again (the manifest sent as a plain field this time): a new revision of the same plugin.
        var second = TestPlugins.Module(["""{"action":"tag","tag":"second"}"""]);
        var replaced = await JsonAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(second, TestPlugins.ManifestJson(), manifestAsFile: false)), HttpStatusCode.OK);
        Assert.Equal(2, replaced.GetProperty("revision").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(second)), replaced.GetProperty("sha256").GetString());

        var one = await JsonAsync(await admin.GetAsync($"/api/v1/plugins/{name}"), HttpStatusCode.OK);
        Assert.Equal(2, one.GetProperty("revision").GetInt32());
        Assert.Equal(0, one.GetProperty("stats").GetProperty("calls").GetInt64());
    }

    [Fact]
    public async Task The_list_shows_config_keys_but_never_config_values_nor_module_bytes()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var name = NewName("secret");
        const string Secret = "sk-live-0123456789abcdef";
        var wasm = TestPlugins.Module([TestPlugins.TagOrder]);
        await JsonAsync(await admin.PutAsync($"/api/v1/plugins/{name}",
            Upload(wasm, TestPlugins.ManifestJson(extra: "\"config\": {\"api_key\": \"" + Secret + "\", \"tag\": \"order\"}"))), HttpStatusCode.Created);

        foreach (var path in new[] { "/api/v1/plugins", $"/api/v1/plugins/{name}" })
        {
            var text = await admin.GetStringAsync(path);
            Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(wasm)[..40], text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"config\"", text, StringComparison.Ordinal);
        }

        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/plugins");
        var listed = Assert.Single(list.GetProperty("plugins").EnumerateArray(), p => p.GetProperty("name").GetString() == name);
        Assert.Equal(["api_key", "tag"], listed.GetProperty("configKeys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("stats").ValueKind);

        // The config still reaches the plugin: it is write-only, not lost.
        var configEcho = await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", new { hook = "after_message", input = new { message = new { text = "hi" } } });
        Assert.True((await JsonAsync(configEcho, HttpStatusCode.OK)).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Only_admins_may_upload_list_change_or_test_plugins()
    {
        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        using var anonymous = gateway.Http();
        var wasm = TestPlugins.Module([TestPlugins.TagOrder]);
        foreach (var (client, status) in new[] { (agent, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            Assert.Equal(status, (await client.PutAsync("/api/v1/plugins/nope", Upload(wasm, TestPlugins.ManifestJson()))).StatusCode);
            Assert.Equal(status, (await client.GetAsync("/api/v1/plugins")).StatusCode);
            Assert.Equal(status, (await client.GetAsync("/api/v1/plugins/nope")).StatusCode);
            Assert.Equal(status, (await client.PostAsync("/api/v1/plugins/nope/disable", null)).StatusCode);
            Assert.Equal(status, (await client.PostAsync("/api/v1/plugins/nope/enable", null)).StatusCode);
            Assert.Equal(status, (await client.DeleteAsync("/api/v1/plugins/nope")).StatusCode);
            Assert.Equal(status, (await client.PostAsJsonAsync("/api/v1/plugins/nope/test", new { hook = "route" })).StatusCode);
        }

        using var admin = gateway.Http(await gateway.LoginAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/v1/plugins/nope")).StatusCode);
    }

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        // module kind, manifest, code, detail fragment
        { "ok", """{"hooks": ["route"], "timeout_ms": 5}""", PluginErrorCodes.InvalidManifest, "unknown field 'timeout_ms'" },
        { "ok", """{"hooks": ["someday"]}""", PluginErrorCodes.InvalidManifest, "unknown hook 'someday'" },
        { "ok", """{"hooks": ["route"], "limits": {"fuel": 99999999999999}}""", PluginErrorCodes.InvalidManifest, "limits.fuel" },
        { "ok", """{"name": "another", "hooks": ["route"]}""", PluginErrorCodes.InvalidManifest, "differs from the name in the URL" },
        { "ok", "not json", PluginErrorCodes.InvalidManifest, "not valid JSON" },
        { "import", """{"hooks": ["route"]}""", PluginErrorCodes.ImportNotAllowed, "wasi_snapshot_preview1" },
        { "no-abi", """{"hooks": ["route"]}""", PluginErrorCodes.AbiMismatch, "kefu_abi_v1" },
        { "memory", """{"hooks": ["route"], "limits": {"memory_mb": 1}}""", PluginErrorCodes.MemoryTooLarge, "" },
        { "garbage", """{"hooks": ["route"]}""", PluginErrorCodes.InvalidModule, "" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_module_or_manifest_the_sandbox_will_not_take_is_refused_with_422_and_the_registrys_code(
        string module, string manifest, string code, string detail)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var name = NewName("bad");
        var wasm = module switch
        {
            "import" => TestPlugins.Module([TestPlugins.TagOrder], imports: """(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"""),
            "no-abi" => TestPlugins.Module([TestPlugins.TagOrder], abiMarker: false),
            "memory" => TestPlugins.Module([TestPlugins.TagOrder], memoryPages: 32),
            "garbage" => "\0asm but not really a module"u8.ToArray(),
            _ => TestPlugins.Module([TestPlugins.TagOrder]),
        };

        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(wasm, manifest)), HttpStatusCode.UnprocessableEntity, code, detail);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/plugins/{name}")).StatusCode);
    }

    [Fact]
    public async Task A_module_over_the_limit_is_413_and_a_request_without_the_parts_is_refused()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var name = NewName("big");

        // Just over the module limit (the body itself is within the limit's framing room): the module's own size decides.
        var big = TestPlugins.Module([TestPlugins.TagOrder], padBytes: PluginGatewayFixture.MaxModuleBytes);
        Assert.True(big.Length > PluginGatewayFixture.MaxModuleBytes);
        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(big, TestPlugins.ManifestJson())),
            HttpStatusCode.RequestEntityTooLarge, PluginErrorCodes.ModuleTooLarge, $"{PluginGatewayFixture.MaxModuleBytes} bytes");

        // Far over it: refused by the declared length before the body is read.
        var huge = new byte[PluginGatewayFixture.MaxModuleBytes * 2];
        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(huge, TestPlugins.ManifestJson())),
            HttpStatusCode.RequestEntityTooLarge, PluginErrorCodes.ModuleTooLarge);

        // A manifest over 64 KiB.
        var longManifest = TestPlugins.ManifestJson(extra: $"\"description\": \"{new string('d', 70 * 1024)}\"");
        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(TestPlugins.Module(), longManifest, manifestAsFile: false)),
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        var noManifest = new MultipartFormDataContent { { new ByteArrayContent(TestPlugins.Module()), "module", "p.wasm" } };
        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", noManifest), HttpStatusCode.BadRequest, "missing_field", "manifest");
        var noModule = new MultipartFormDataContent { { new StringContent(TestPlugins.ManifestJson()), "manifest" } };
        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", noModule), HttpStatusCode.BadRequest, "missing_field", "module");
        await AssertProblemAsync(await admin.PutAsync($"/api/v1/plugins/{name}", new ByteArrayContent(TestPlugins.Module())),
            HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task A_plugin_is_disabled_enabled_and_deleted()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var name = NewName("switch");
        await JsonAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(TestPlugins.Module([TestPlugins.TagOrder]), TestPlugins.ManifestJson())), HttpStatusCode.Created);
        var test = new { hook = "after_message", input = new { message = new { text = "hi" } } };

        Assert.False((await JsonAsync(await admin.PostAsync($"/api/v1/plugins/{name}/disable", null), HttpStatusCode.OK)).GetProperty("enabled").GetBoolean());
        var refused = await JsonAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", test), HttpStatusCode.OK);
        Assert.Equal((false, PluginErrorCodes.Disabled), (refused.GetProperty("ok").GetBoolean(), refused.GetProperty("errorCode").GetString()));
        Assert.False((await admin.GetFromJsonAsync<JsonElement>($"/api/v1/plugins/{name}")).GetProperty("enabled").GetBoolean());

        Assert.True((await JsonAsync(await admin.PostAsync($"/api/v1/plugins/{name}/enable", null), HttpStatusCode.OK)).GetProperty("enabled").GetBoolean());
        Assert.True((await JsonAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", test), HttpStatusCode.OK)).GetProperty("ok").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/plugins/{name}")).StatusCode);
        await AssertProblemAsync(await admin.GetAsync($"/api/v1/plugins/{name}"), HttpStatusCode.NotFound, PluginErrorCodes.NotFound);
        await AssertProblemAsync(await admin.DeleteAsync($"/api/v1/plugins/{name}"), HttpStatusCode.NotFound, PluginErrorCodes.NotFound);
        await AssertProblemAsync(await admin.PostAsync($"/api/v1/plugins/{name}/enable", null), HttpStatusCode.NotFound, PluginErrorCodes.NotFound);
        await AssertProblemAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", test), HttpStatusCode.NotFound, PluginErrorCodes.NotFound);
        Assert.DoesNotContain(name, await admin.GetStringAsync("/api/v1/plugins"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_test_endpoint_answers_the_actions_and_log_of_a_call_or_a_traps_reason()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var name = NewName("tester");
        var wasm = TestPlugins.Module(["""{"action":"redact","find":"4111 1111 1111 1111","with":"****"}"""], log: "checked the card");
        await JsonAsync(await admin.PutAsync($"/api/v1/plugins/{name}", Upload(wasm, TestPlugins.ManifestJson())), HttpStatusCode.Created);

        var ok = await JsonAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test",
            new { hook = "before_message", input = new { message = new { text = "card 4111 1111 1111 1111" } } }), HttpStatusCode.OK);
        Assert.True(ok.GetProperty("ok").GetBoolean(), ok.ToString());
        var action = Assert.Single(ok.GetProperty("actions").EnumerateArray());
        Assert.Equal(("redact", "****"), (action.GetProperty("action").GetString(), action.GetProperty("with").GetString()));
        Assert.Contains("checked the card", ok.GetProperty("log").GetString(), StringComparison.Ordinal);
        Assert.True(ok.GetProperty("fuelUsed").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("errorCode").ValueKind);

        // The action is not allowed at route: the call fails, with the reason.
        var wrongHook = await JsonAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", new { hook = "route" }), HttpStatusCode.OK);
        Assert.Equal(PluginErrorCodes.HookNotDeclared, wrongHook.GetProperty("errorCode").GetString());

        var trapping = NewName("trap");
        await JsonAsync(await admin.PutAsync($"/api/v1/plugins/{trapping}", Upload(TestPlugins.Module(body: "(unreachable)"), TestPlugins.ManifestJson())), HttpStatusCode.Created);
        var trap = await JsonAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{trapping}/test", new { hook = "after_message", input = new { } }), HttpStatusCode.OK);
        Assert.False(trap.GetProperty("ok").GetBoolean());
        Assert.Equal(PluginErrorCodes.Trap, trap.GetProperty("errorCode").GetString());
        Assert.Contains("unreachable", trap.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(trap.GetProperty("actions").EnumerateArray());

        var stats = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/plugins/{trapping}")).GetProperty("stats");
        Assert.Equal((1, 1), (stats.GetProperty("calls").GetInt64(), stats.GetProperty("failures").GetInt64()));
        Assert.Equal(PluginErrorCodes.Trap, stats.GetProperty("lastErrorCode").GetString());

        await AssertProblemAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", new { hook = "someday" }), HttpStatusCode.BadRequest, "invalid_field", "hook");
        await AssertProblemAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", new { input = new { } }), HttpStatusCode.BadRequest, "missing_field", "hook");
        await AssertProblemAsync(await admin.PostAsJsonAsync($"/api/v1/plugins/{name}/test", new { hook = "route", input = new[] { 1 } }), HttpStatusCode.BadRequest, "invalid_field", "input");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_plugin_endpoints_for_admins_with_a_multipart_upload()
    {
        using var anonymous = gateway.Http();
        var document = await JsonAsync(await anonymous.GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        var paths = document.GetProperty("paths");
        var operations = new[]
        {
            ("/api/v1/plugins", "get"), ("/api/v1/plugins/{name}", "put"), ("/api/v1/plugins/{name}", "get"), ("/api/v1/plugins/{name}", "delete"),
            ("/api/v1/plugins/{name}/enable", "post"), ("/api/v1/plugins/{name}/disable", "post"), ("/api/v1/plugins/{name}/test", "post"),
        };
        foreach (var (path, method) in operations)
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.Equal("admin", operation.GetProperty("x-kefu-access").GetString());
        }

        var put = paths.GetProperty("/api/v1/plugins/{name}").GetProperty("put");
        var schema = put.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        if (schema.TryGetProperty("$ref", out var reference))
        {
            schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }

        var parts = schema.GetProperty("properties");
        var module = parts.GetProperty("module");
        if (module.TryGetProperty("$ref", out var moduleReference))
        {
            module = document.GetProperty("components").GetProperty("schemas").GetProperty(moduleReference.GetString()!.Split('/')[^1]);
        }

        Assert.Equal("binary", module.GetProperty("format").GetString());
        Assert.Equal("string", parts.GetProperty("manifest").GetProperty("type").GetString());
        Assert.Equal(["manifest", "module"], schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
        foreach (var status in new[] { "200", "201", "409", "413", "415", "422" })
        {
            Assert.True(put.GetProperty("responses").TryGetProperty(status, out _), status);
        }

        Assert.True(paths.GetProperty("/api/v1/plugins/{name}/test").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
    }
}
