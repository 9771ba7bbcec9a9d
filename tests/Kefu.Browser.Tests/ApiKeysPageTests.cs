using System.Net;
using System.Net.Http.Headers;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>The console's API keys page (docs/integration.md §7): a new key is shown once and works; revoking it from the page refuses it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiKeysPageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_key_created_in_the_console_is_shown_once_works_shows_its_last_use_and_is_refused_once_revoked()
    {
        var name = "Order <b>system</b> " + Guid.NewGuid().ToString("N")[..6];
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("api-keys");
        var form = admin.Page.Locator("#api-key-form");
        await form.Locator("input[name=name]").FillAsync(name);
        await form.Locator("input[value='events:read']").CheckAsync();
        await form.Locator("button[type=submit]").ClickAsync();

        var secret = admin.Page.Locator("#api-key-secret");
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^kefu_sk_[0-9a-z]{26}[A-Za-z0-9_-]{43}$"));
        var key = (await secret.TextContentAsync())!;
        var row = admin.Page.Locator("#api-keys-body tr").Filter(new() { HasText = name });
        await Expect(row.Locator("td").Nth(0)).ToHaveTextAsync(name);
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("events:read");
        await Expect(row.Locator("td").Nth(5)).ToHaveTextAsync("never");

        using var system = new HttpClient { BaseAddress = fixture.BaseUri };
        system.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        Assert.Equal(HttpStatusCode.OK, (await system.GetAsync("/api/v1/events?limit=1")).StatusCode);

        // Shown once: after a reload the page lists the key, with its last use, but never its text.
        await admin.ReloadAsync();
        await admin.ShowAdminAsync("api-keys");
        await Expect(row.Locator("td").Nth(5)).Not.ToHaveTextAsync("never");
        await Expect(secret).ToBeHiddenAsync();
        Assert.DoesNotContain(key[^43..], await admin.Page.ContentAsync(), StringComparison.Ordinal);

        await admin.ClickAndConfirmAsync(row.GetByRole(AriaRole.Button, new() { Name = "Revoke" }),
            $"Revoke API key {name}? Systems using it are refused from their next request.");
        await Expect(row).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.GetAsync("/api/v1/events?limit=1")).StatusCode);
    }
}
