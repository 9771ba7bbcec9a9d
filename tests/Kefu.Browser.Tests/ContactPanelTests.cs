using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;
using Kefu.Contracts.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Browser.Tests;

/// <summary>
/// Widget identification and the console's contact panel (issue #14, item 2): a shop (another origin) that signs its
/// customer in adds data-user-id and data-user-hash; the customer keeps the conversation they had as an anonymous visitor;
/// an agent sees who they are (name, email, external id, attributes) and their past conversations; a wrong hash gets no
/// customer's history.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ContactPanelTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_customer_who_signs_in_keeps_their_chat_and_the_agent_sees_their_contact_with_past_conversations()
    {
        using var admin = await fixture.AdminHttpAsync();
        var (publicKey, secret) = await DefaultInboxAsync(admin);
        await using var shopSite = await StartShopAsync(publicKey, secret);
        var shop = shopSite.Urls.First();
        var userId = "cust-" + Guid.NewGuid().ToString("N")[..10];

        await using var agent = await ConsolePage.NewAgentAsync(fixture);

        // On the laptop: anonymous first, then signed in — the same conversation, with its messages.
        await using var laptop = await ShopVisitorAsync(shop + "/cart");
        var first = await laptop.StartConversationAsync("My parcel is late");
        await laptop.Page.GotoAsync(shop + "/account?user=" + userId);
        await laptop.OpenPanelAsync();
        await Expect(laptop.Message("My parcel is late")).ToBeVisibleAsync();
        Assert.Equal(first, await laptop.ConversationIdAsync());
        await WaitForStoredUserIdAsync(laptop, userId);

        // On the phone: another anonymous chat, then signed in as the same customer — it keeps its own conversation.
        await using var phone = await ShopVisitorAsync(shop + "/");
        var second = await phone.StartConversationAsync("Hello from my phone");
        await phone.Page.GotoAsync(shop + "/account?user=" + userId);
        await phone.OpenPanelAsync();
        await Expect(phone.Message("Hello from my phone")).ToBeVisibleAsync();
        await WaitForStoredUserIdAsync(phone, userId);
        Assert.Equal(second, await phone.ConversationIdAsync());

        // The shop's CRM tells Kefu what it knows about the customer.
        var contacts = await admin.GetFromJsonAsync<JsonElement>("/api/v1/contacts?externalId=" + userId);
        var contactId = contacts.GetProperty("contacts")[0].GetProperty("id").GetString()!;
        var patched = await admin.PatchAsJsonAsync("/api/v1/contacts/" + contactId,
            new { name = "Na Qing", email = "lin@example.com", attributes = new Dictionary<string, string> { ["plan"] = "gold", ["orders"] = "12" } });
        Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());

        await agent.OpenConversationAsync(second);
        var panel = agent.Page.Locator("#contact-panel");
        await Expect(panel).ToBeVisibleAsync();
        await Expect(ContactField(agent, "Name")).ToHaveTextAsync("Na Qing");
        await Expect(ContactField(agent, "Email")).ToHaveTextAsync("lin@example.com");
        await Expect(ContactField(agent, "External ID")).ToHaveTextAsync(userId);
        await Expect(ContactField(agent, "plan")).ToHaveTextAsync("gold");
        await Expect(ContactField(agent, "orders")).ToHaveTextAsync("12");
        await Expect(panel.Locator($"li[data-conversation='{second}']")).ToContainTextAsync("this conversation");
        var past = panel.Locator($"li[data-conversation='{first}'] button");
        await Expect(past).ToBeVisibleAsync();
        await Screenshots.SaveAsync(agent.Page, "contact-panel");

        await past.ClickAsync();
        await Expect(agent.Message("My parcel is late")).ToBeVisibleAsync();
        await Expect(panel.Locator($"li[data-conversation='{first}']")).ToContainTextAsync("this conversation");

        // A forged hash: the widget chats, but anonymously — no customer's history, no contact.
        await using var forger = await ShopVisitorAsync(shop + "/account?user=" + userId + "&hash=" + VisitorIdentity.Hash("kis_guess", userId));
        var forged = await forger.StartConversationAsync("Show me Lin's orders");
        Assert.NotEqual(first, forged);
        Assert.NotEqual(second, forged);
        Assert.Null(await StoredUserIdAsync(forger));
        await agent.OpenConversationAsync(forged);
        await Expect(agent.Message("Show me Lin's orders")).ToBeVisibleAsync();
        await Expect(panel).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_message_a_signed_in_customer_leaves_while_nobody_is_online_is_their_contacts()
    {
        using var admin = await fixture.AdminHttpAsync();
        var (publicKey, secret) = await DefaultInboxAsync(admin);
        await using var shopSite = await StartShopAsync(publicKey, secret);
        var userId = "cust-" + Guid.NewGuid().ToString("N")[..10];

        await using var visitor = await ShopVisitorAsync(shopSite.Urls.First() + "/account?user=" + userId);
        await visitor.OpenPanelAsync();
        var form = visitor.Widget.Locator("form.offline");
        await Expect(form).ToBeVisibleAsync();
        await form.Locator("input[name=name]").FillAsync("Qiu Yue");
        await form.Locator("input[name=email]").FillAsync("qiu@example.com");
        await form.Locator("textarea[name=text]").FillAsync("Where is order 12345?");
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(visitor.Widget.Locator("p.left")).ToContainTextAsync("Thank you");
        await WaitForStoredUserIdAsync(visitor, userId);

        var conversationId = await visitor.ConversationIdAsync();
        var contact = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/contacts?externalId=" + userId)).GetProperty("contacts")[0];
        Assert.Contains(conversationId, contact.GetProperty("conversationIds").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal("Qiu Yue", contact.GetProperty("name").GetString());

        // Leave nothing waiting in the shared gateway's queue: the next test's new agent would be assigned it.
        (await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task The_inbox_admin_page_shows_the_identity_secret_and_rotates_it()
    {
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("inboxes");
        var secret = admin.Page.Locator(".card[data-inbox='default'] code.identity-secret");
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^kis_"));
        var before = await secret.TextContentAsync();

        await admin.ClickAndConfirmAsync(admin.Page.Locator(".card[data-inbox='default'] button", new PageLocatorOptions { HasText = "Rotate identity secret" }),
            "Rotate the identity secret of default? Hashes made with the old secret stop working at once.");
        await Expect(secret).Not.ToHaveTextAsync(before!);
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^kis_"));

        using var http = await fixture.AdminHttpAsync();
        var inbox = (await http.GetFromJsonAsync<JsonElement>("/api/v1/inboxes")).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.GetProperty("inboxId").GetString() == "default");
        await Expect(secret).ToHaveTextAsync(inbox.GetProperty("identitySecret").GetString()!);
    }

    /// <summary>
    /// A shop on another origin whose server computes the hash for whoever is signed in (?user=…); ?hash=… stands for a
    /// forged one.
    /// </summary>
    private async Task<WebApplication> StartShopAsync(string publicKey, string secret)
    {
        var gateway = fixture.BaseUri.ToString().TrimEnd('/');
        var shopBuilder = WebApplication.CreateSlimBuilder();
        shopBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        shopBuilder.Logging.ClearProviders();
        var shopSite = shopBuilder.Build();

        shopSite.MapGet("/{**path}", (HttpRequest request) =>
        {
            var user = request.Query["user"].ToString();
            var hash = request.Query["hash"].ToString() is { Length: > 0 } forged ? forged : user.Length > 0 ? VisitorIdentity.Hash(secret, user) : "";
            var identity = user.Length > 0 ? $"data-user-id=\"{user}\" data-user-hash=\"{hash}\"" : "";
            return Results.Content($$"""
                <!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head>
                <body><h1>Shop</h1><script src="{{gateway}}/widget.js" data-inbox-key="{{publicKey}}" {{identity}} async></script></body></html>
                """, "text/html; charset=utf-8");
        });
        await shopSite.StartAsync();
        return shopSite;
    }

    private static async Task<(string PublicKey, string Secret)> DefaultInboxAsync(HttpClient admin)
    {
        var inbox = (await admin.GetFromJsonAsync<JsonElement>("/api/v1/inboxes")).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.GetProperty("inboxId").GetString() == "default");
        return (inbox.GetProperty("publicKey").GetString()!, inbox.GetProperty("identitySecret").GetString()!);
    }

    private static ILocator ContactField(ConsolePage agent, string label) =>
        agent.Page.Locator($"xpath=//dl[@id='contact-fields']/dt[.='{label}']/following-sibling::dd[1]");

    private static Task<string?> StoredUserIdAsync(VisitorPage visitor) => visitor.Page.EvaluateAsync<string?>("""
        () => { const k = Object.keys(localStorage).find(x => x.startsWith('kefu.widget.'));
                return k ? JSON.parse(localStorage.getItem(k)).userId || null : null; }
        """);

    /// <summary>Until the widget has stored that it identified the visitor as <paramref name="userId"/> (the server said yes).</summary>
    private static Task WaitForStoredUserIdAsync(VisitorPage visitor, string userId) => visitor.Page.WaitForFunctionAsync("""
        id => { const k = Object.keys(localStorage).find(x => x.startsWith('kefu.widget.'));
                return !!k && JSON.parse(localStorage.getItem(k)).userId === id; }
        """, userId);

    private async Task<VisitorPage> ShopVisitorAsync(string url) => await VisitorPage.OpenAsync(fixture, path: url);
}
