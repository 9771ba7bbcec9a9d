using System.Net.Http.Json;
using System.Net;
using Kefu.Browser.Tests.Infrastructure;
using Kefu.Gateway.Tests.Webhooks;

namespace Kefu.Browser.Tests;

/// <summary>The webhooks admin page: create an endpoint (its secret shown once), see its deliveries with status and the receiver's answer, retry one, disable it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class WebhooksPageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task An_admin_creates_an_endpoint_sees_failed_and_succeeded_deliveries_and_retries_one()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Script = (_, attempt) => attempt == 1 ? new ReceiverAnswer(500, Body: "order system busy") : ReceiverAnswer.Ok;
        await using var console = await ConsolePage.LoginAsync(fixture);
        var page = console.Page;
        await page.Locator("#nav-integrations > summary").ClickAsync();
        await page.Locator("#nav a[href='webhooks.html']").ClickAsync();
        await Expect(page.Locator("main.webhooks h2")).ToHaveTextAsync("Webhook endpoints");

        var form = page.Locator("#endpoint-form");
        await form.Locator("input[name=url]").FillAsync(receiver.Url);
        await form.Locator("input[value='message.created']").CheckAsync();
        await form.Locator("input[name=description]").FillAsync("Order <b>system</b>");
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#secret-value")).ToContainTextAsync("whsec_");
        receiver.Secrets = [(await page.Locator("#secret-value").TextContentAsync())!];
        var row = page.Locator("#endpoints-body tr").Filter(new() { HasText = receiver.Url });
        await Expect(row.Locator(".status")).ToHaveTextAsync("active");
        await Expect(row).ToContainTextAsync("Order <b>system</b>"); // shown as text, not markup

        // A visitor writes: the first attempt fails with the receiver's answer, the retry succeeds.
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Webhook visitor");
        await visitor.SendAsync("where is my order?");
        await row.GetByRole(AriaRole.Button, new() { Name = "Deliveries" }).ClickAsync();
        var deliveries = page.Locator("#deliveries-body tr");
        var failed = deliveries.And(page.Locator("[data-status='failed']"));
        await Expect(failed.First.Locator(".http")).ToHaveTextAsync("500");
        await Expect(failed.First.Locator(".excerpt")).ToHaveTextAsync("order system busy");
        await Expect(deliveries.And(page.Locator("[data-status='succeeded']")).First.Locator(".http")).ToHaveTextAsync("200");
        Assert.All(receiver.Received, r => Assert.True(r.SignatureValid));

        // Retry sends the event again (the receiver sees its webhook-id a third time).
        var id = (await failed.First.Locator("td").Nth(1).Locator(".muted").TextContentAsync())!;
        await failed.First.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(page.Locator("#toast")).ToContainTextAsync("Sending message.created again");
        await WaitUntilAsync(() => receiver.Received.Count(r => r.Id == id) >= 3);

        // Disable: the status says so.
        await row.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
        await Expect(row.Locator(".status")).ToContainTextAsync("disabled");
        await Screenshots.SaveAsync(page, "webhooks-page");

        // Leave nothing waiting in the shared gateway's queue: the next test's new agent would be assigned it.
        using var admin = await fixture.AdminHttpAsync();
        (await admin.PostAsJsonAsync($"/api/v1/conversations/{visitor.ConversationId}/status", new { status = "resolved" })).EnsureSuccessStatusCode();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            await Task.Delay(100);
        }
    }
}
