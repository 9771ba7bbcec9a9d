using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Browser.Tests;

/// <summary>
/// The widget on somebody else's website: another origin (so every HTTP call is cross-origin) with hostile styles
/// (which must not reach inside the widget). The shop is a second web server on another loopback port: a different
/// origin in the same (loopback) address space, since Chromium blocks public origins from reaching loopback.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class EmbedTests(BrowserFixture fixture)
{
    [Fact]
    public async Task The_widget_works_on_another_origin_with_one_script_tag_and_the_page_styles_do_not_leak_in()
    {
        string publicKey;
        using (var admin = await fixture.AdminHttpAsync())
        {
            var inboxes = await admin.GetFromJsonAsync<JsonElement>("/api/v1/inboxes");
            publicKey = inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.GetProperty("inboxId").GetString() == "default")
                .GetProperty("publicKey").GetString()!;
        }

        var gateway = fixture.BaseUri.ToString().TrimEnd('/');
        var html = $$"""
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Shop</title>
            <style>
              * { color: red !important; font-size: 31px !important; font-family: serif !important; }
              div, section, form, span { display: none !important; }
              button { background: lime !important; border-radius: 0 !important; }
            </style></head>
            <body><h1>A shop on another site</h1>
            <script src="{{gateway}}/widget.js" data-inbox-key="{{publicKey}}" async></script>
            </body></html>
            """;

        var shopBuilder = WebApplication.CreateSlimBuilder();
        shopBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        shopBuilder.Logging.ClearProviders();
        await using var shopSite = shopBuilder.Build();
        shopSite.MapGet("/{**path}", () => Results.Content(html, "text/html; charset=utf-8"));
        await shopSite.StartAsync();
        var shop = shopSite.Urls.First();

        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        var context = await fixture.NewContextAsync();
        await using var _ = context;
        var page = await context.NewPageAsync();
        await page.GotoAsync(shop + "/product/42");
        Assert.NotEqual(new Uri(page.Url).GetLeftPart(UriPartial.Authority), gateway);
        var widget = page.Locator("#kefu-widget");
        var bubble = widget.Locator("button.bubble");
        await Expect(bubble).ToBeVisibleAsync();
        Assert.Equal("rgb(37, 99, 235)", await bubble.EvaluateAsync<string>("b => getComputedStyle(b).backgroundColor"));

        await bubble.ClickAsync();
        var input = widget.Locator("form.composer textarea");
        await input.FillAsync("Is this tent waterproof?");
        await input.PressAsync("Enter");
        var mine = widget.Locator(".log .msg").Filter(new LocatorFilterOptions { HasText = "Is this tent waterproof?" });
        await Expect(mine).ToHaveAttributeAsync("data-state", "sent");
        var text = mine.Locator(".text");
        Assert.Equal("rgb(255, 255, 255)", await text.EvaluateAsync<string>("t => getComputedStyle(t).color"));
        Assert.Equal("14px", await text.EvaluateAsync<string>("t => getComputedStyle(t).fontSize"));

        var conversationId = await page.EvaluateAsync<string>("""
            () => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('kefu.widget.')))).conversationId
            """);
        await agent.OpenConversationAsync(conversationId);
        await agent.SendAsync("Yes, up to 3000 mm.");
        await Expect(widget.Locator(".log .msg").Filter(new LocatorFilterOptions { HasText = "Yes, up to 3000 mm." })).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "widget-on-another-site");
    }
}
