using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Kefu.Browser.Tests.Infrastructure;
using Kefu.Gateway.Tests.Routing;

namespace Kefu.Browser.Tests;

/// <summary>
/// The routing rules page: a refused save lists the problem with its line and column (a click puts the caret on that
/// line), a good one is saved with its version, a dry run shows the matched route's planned call and rendered reply, and
/// a real execution shows up in the recent executions.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class RoutingPageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task An_admin_sees_line_and_column_of_a_problem_saves_rules_dry_runs_an_event_and_sees_the_execution()
    {
        await using var erp = await FakeErp.StartAsync();
        await using var console = await ConsolePage.LoginAsync(fixture);
        var page = console.Page;
        await page.Locator("#nav-integrations > summary").ClickAsync();
        await page.Locator("#nav a[href='routing.html']").ClickAsync();
        await Expect(page.Locator("main.routing h2")).ToHaveTextAsync("Routing rules");

        // An unknown key on line 3: refused, shown with where it is.
        var editor = page.Locator("#rules-text");
        await editor.FillAsync("routes:\n  - match: \"browser_order\"\n    colour: red\n    actions:\n      - reply_template: \"hi\"\n");
        await page.Locator("#rules-save").ClickAsync();
        var problem = page.Locator("#rules-errors-list li").First;
        await Expect(problem).ToHaveAttributeAsync("data-line", "3");
        await Expect(problem).ToContainTextAsync("Line 3, column 5");
        await Expect(problem).ToContainTextAsync("colour");
        await problem.ClickAsync();
        Assert.Equal("routes:\n  - match: \"browser_order\"\n".Length + 4, await editor.EvaluateAsync<int>("e => e.selectionStart"));

        // Good rules (on an event type only this test sends, so the shared gateway's other tests never meet them): saved, the errors gone, the version shown.
        var rules = $$"""
            routes:
              - id: browser-sync
                match: "browser_order"
                actions:
                  - call: "ERP::sync"
                  - reply_template: "Order {order_id} is on its way"
            connectors:
              ERP:
                kind: http
                baseUrl: "{{erp.BaseUrl}}"
                operations:
                  sync: { method: POST, path: "/orders/{order_id}/sync" }
            """;
        await editor.FillAsync(rules);
        await page.Locator("#rules-save").ClickAsync();
        await Expect(page.Locator("#rules-errors")).ToBeHiddenAsync();
        await Expect(page.Locator("#rules-meta")).ToContainTextAsync("Version");
        await Expect(page.Locator("#rules-meta")).ToContainTextAsync("1 route");

        // Dry run: the planned call and the rendered reply; the ERP hears nothing.
        var form = page.Locator("#dry-run-form");
        await form.Locator("input[name=type]").FillAsync("browser_order");
        await form.Locator("textarea[name=data]").FillAsync("""{"order_id": "777"}""");
        await form.Locator("button[type=submit]").ClickAsync();
        var card = page.Locator(".route-card[data-route='browser-sync']");
        await Expect(card).ToContainTextAsync($"POST {erp.BaseUrl}/orders/777/sync");
        await Expect(card.Locator(".reply")).ToHaveTextAsync("Order 777 is on its way");
        await form.Locator("input[name=type]").FillAsync("nobody_listens");
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#dry-run-result .no-match")).ToBeVisibleAsync();
        Assert.Empty(erp.Received);
        await form.Locator("input[name=type]").FillAsync("browser_order");
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(card.Locator(".reply")).ToHaveTextAsync("Order 777 is on its way");
        await Screenshots.SaveAsync(page, "routing-dry-run", page.Locator("section.dry-run"));

        // A real event: its execution appears in the table (the reply step fails: the event has no conversation).
        using var admin = await fixture.AdminHttpAsync();
        var body = $$$"""{"id":"browser-{{{Ulid.NewUlid()}}}","type":"browser_order","data":{"order_id":"778"}}""";
        var accepted = await admin.PostAsync("/api/v1/webhook", new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var row = page.Locator("#executions-body tr").Filter(new() { HasText = "browser-sync" }).First;
        await Expect(row).ToContainTextAsync("browser_order");
        await Expect(row.Locator(".steps")).ToContainTextAsync("call ERP::sync: succeeded");
        Assert.Contains(erp.Received, r => r.Path == "/orders/778/sync");
        await Screenshots.SaveAsync(page, "routing-page");
        await Screenshots.SaveAsync(page, "routing-executions", page.Locator("section.executions"));
    }
}
