using System.Security.Cryptography;
using Kefu.Browser.Tests.Infrastructure;
using Kefu.Grains.Tests.Plugins;

namespace Kefu.Browser.Tests;

/// <summary>
/// The plugins admin page (Integrations → Plugins): upload a module through the file input with a manifest, see it
/// listed with its revision, hash and hooks (config keys, never values), test it in the dialog (actions and log, then a
/// trap's reason after a new revision), disable and delete it.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PluginsPageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task An_admin_uploads_a_module_sees_it_listed_tests_it_and_deletes_it()
    {
        var name = $"page-{Guid.NewGuid():N}"[..13];
        var wasm = TestPlugins.Module([TestPlugins.TagOrder], log: "tagged the order");
        await using var console = await ConsolePage.LoginAsync(fixture);
        var page = console.Page;
        await page.Locator("#nav-integrations > summary").ClickAsync();
        await page.Locator("#nav a[href='plugins.html']").ClickAsync();
        await Expect(page.Locator("main.plugins h2")).ToHaveTextAsync("Plugins");

        // Upload: the name comes from the file's, the manifest starts from the template.
        var form = page.Locator("#upload-form");
        await Expect(form.Locator("textarea[name=manifest]")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("\"timeout_ms\": 100"));
        await form.Locator("input[name=module]").SetInputFilesAsync(
            new FilePayload { Name = name + ".wasm", MimeType = "application/wasm", Buffer = TestPlugins.Module([TestPlugins.TagOrder], abiMarker: false) });
        await Expect(form.Locator("input[name=name]")).ToHaveValueAsync(name);
        await form.Locator("textarea[name=manifest]").FillAsync("""
            {"version": "2.1", "description": "Tags <b>orders</b>", "hooks": ["after_message"], "config": {"token": "s3cret-value"}}
            """);
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#toast.error")).ToContainTextAsync("kefu_abi_v1"); // refused: the registry's reason
        await Expect(page.Locator($"#plugins-body tr[data-plugin='{name}']")).ToHaveCountAsync(0);

        await form.Locator("input[name=module]").SetInputFilesAsync(new FilePayload { Name = name + ".wasm", MimeType = "application/wasm", Buffer = wasm });
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#toast")).ToHaveTextAsync($"Plugin {name} uploaded.");

        var row = page.Locator($"#plugins-body tr[data-plugin='{name}']");
        await Expect(row.Locator(".revision")).ToHaveTextAsync("1");
        await Expect(row.Locator(".hash")).ToHaveTextAsync(Convert.ToHexStringLower(SHA256.HashData(wasm))[..12]);
        await Expect(row.Locator(".status")).ToHaveTextAsync("enabled");
        await Expect(row.Locator(".hooks")).ToHaveTextAsync("after_message");
        await Expect(row).ToContainTextAsync("Tags <b>orders</b>"); // text, not markup
        await Expect(row).ToContainTextAsync("Config keys: token");
        await Expect(row).Not.ToContainTextAsync("s3cret-value");

        // Test: the dialog runs one call and shows its action and log.
        await row.GetByRole(AriaRole.Button, new() { Name = "Test" }).ClickAsync();
        await Expect(page.Locator("#test-dialog")).ToBeVisibleAsync();
        await Expect(page.Locator("#test-hook")).ToHaveValueAsync("after_message");
        await Expect(page.Locator("#test-input")).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("Where is my order"));
        await page.Locator("#test-run").ClickAsync();
        await Expect(page.Locator("#test-outcome")).ToHaveTextAsync("Succeeded: 1 action(s)");
        await Expect(page.Locator("#test-actions")).ToHaveTextAsync("""{"action":"tag","tag":"order"}""");
        await Expect(page.Locator("#test-log")).ToContainTextAsync("tagged the order");
        await Screenshots.SaveAsync(page, "plugins-test", page.Locator("#test-dialog"));
        await page.Locator("#test-close").ClickAsync();
        await Expect(row).ToContainTextAsync("1 calls, 0 failed");

        // A new revision that traps: the test shows the reason, the list the last error.
        await form.Locator("input[name=module]").SetInputFilesAsync(new FilePayload { Name = "trap.wasm", MimeType = "application/wasm", Buffer = TestPlugins.Module(body: "(unreachable)") });
        await form.Locator("input[name=name]").FillAsync(name);
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#toast")).ToHaveTextAsync($"Plugin {name} updated: revision 2.");
        await Expect(row.Locator(".revision")).ToHaveTextAsync("2");
        await row.GetByRole(AriaRole.Button, new() { Name = "Test" }).ClickAsync();
        await page.Locator("#test-run").ClickAsync();
        await Expect(page.Locator("#test-outcome")).ToContainTextAsync("Failed: plugin_trap");
        await Expect(page.Locator("#test-outcome")).ToContainTextAsync("unreachable");
        await Expect(page.Locator("#test-actions")).ToHaveTextAsync("(no actions)");
        await page.Locator("#test-close").ClickAsync();
        await Expect(row.Locator(".last-error")).ToContainTextAsync("plugin_trap");

        await row.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(row.Locator(".status")).ToHaveTextAsync("disabled");
        await Screenshots.SaveAsync(page, "plugins-page");

        await console.ClickAndConfirmAsync(row.GetByRole(AriaRole.Button, new() { Name = "Delete" }), $"Delete the plugin {name} and its module?");
        await Expect(row).ToHaveCountAsync(0);
    }
}
