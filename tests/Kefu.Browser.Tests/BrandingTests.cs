using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// Faces and branding (issue #18): an agent's initials, then its uploaded picture, in the console and in the visitor's
/// widget; an inbox's colour, title and corner set in the admin page with a live preview and applied to its widget; and
/// "back at …" outside business hours.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrandingTests(BrowserFixture fixture)
{
    /// <summary>A real 1×1 PNG.</summary>
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    [Fact]
    public async Task An_agent_shows_initials_until_it_uploads_a_picture_in_the_console_and_in_the_widget()
    {
        var agentId = await fixture.CreateAgentAsync("Ann Lee");
        await using var agent = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword);
        await Expect(agent.Page.Locator("#me-face .face")).ToHaveTextAsync("AL");

        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("Hi, who is there?");
        await agent.OpenConversationAsync(conversationId);
        await agent.SendAsync("Ann here, hello!");
        var first = visitor.Message("Ann here, hello!");
        await Expect(first.Locator(".face")).ToHaveTextAsync("AL");
        await Expect(visitor.Widget.Locator("header .face")).ToBeVisibleAsync();
        await Expect(visitor.Widget.Locator("header p")).ToHaveTextAsync("Ann Lee is replying");
        await Expect(agent.Message("Ann here, hello!").Locator(".meta .face")).ToHaveTextAsync("AL");

        // The user menu: upload a picture; the console shows it at once.
        await agent.Page.Locator("#me-face").ClickAsync();
        await Expect(agent.Page.Locator("#avatar-menu")).ToBeVisibleAsync();
        await agent.Page.Locator("#avatar-file").SetInputFilesAsync(new FilePayload { Name = "me.png", MimeType = "image/png", Buffer = Png });
        await Expect(agent.Page.Locator("#me-face .face img")).ToHaveCountAsync(1);
        await Expect(agent.Page.Locator("#avatar-menu")).ToBeHiddenAsync();
        await agent.SendAsync("With my picture now.");
        var picture = agent.Message("With my picture now.").Locator(".meta .face img");
        await Expect(picture).ToHaveCountAsync(1);
        await Expect(picture).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex($"^/api/v1/avatars/default/{agentId}\\?v="));

        // The widget (a new page view): the picture over the initials, next to the agent's messages and in the header.
        await visitor.Page.ReloadAsync();
        await visitor.OpenPanelAsync();
        var withPicture = visitor.Message("With my picture now.").Locator(".face img");
        await Expect(withPicture).ToHaveCountAsync(1);
        Assert.Equal(1, await withPicture.EvaluateAsync<int>("i => i.naturalWidth"));
        await Expect(visitor.Widget.Locator("header .face img")).ToHaveCountAsync(1);

        // Removed: initials again.
        await agent.Page.Locator("#me-face").ClickAsync();
        await agent.Page.Locator("#avatar-menu .avatar-remove").ClickAsync();
        await Expect(agent.Page.Locator("#me-face .face")).ToHaveTextAsync("AL");
        await Expect(agent.Page.Locator("#me-face .face img")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task The_admin_page_previews_the_inbox_look_live_and_the_widget_wears_it()
    {
        var inboxId = "brand-" + Guid.NewGuid().ToString("N")[..6];
        await using (var admin = await ConsolePage.LoginAsync(fixture))
        {
            await admin.ShowAdminAsync("inboxes");
            var form = admin.Page.Locator("#inbox-form");
            var preview = admin.Page.Locator("#widget-preview");
            var header = preview.Locator(".pv-header");
            await Expect(header).ToHaveCSSAsync("background-color", "rgb(37, 99, 235)");
            await form.Locator("input[name=inboxId]").FillAsync(inboxId);
            await form.Locator("input[name=name]").FillAsync("Brand");

            // Every keystroke shows in the preview, before anything is saved.
            await form.Locator("input[name=appearanceColor]").PressSequentiallyAsync("#fde047");
            await Expect(header).ToHaveCSSAsync("background-color", "rgb(253, 224, 71)");
            await Expect(header).ToHaveCSSAsync("color", "rgb(0, 0, 0)"); // pale yellow: dark text
            await form.Locator("input[name=appearanceTitle]").FillAsync("Ann's <b>shop</b>");
            await Expect(preview.Locator(".pv-title")).ToHaveTextAsync("Ann's <b>shop</b>");
            await form.Locator("input[name=greeting]").FillAsync("Welcome to the shop!");
            await Expect(preview.Locator(".pv-greeting")).ToHaveTextAsync("Welcome to the shop!");
            await form.Locator("select[name=appearancePosition]").SelectOptionAsync("bottom-left");
            await Expect(preview).ToHaveAttributeAsync("data-position", "bottom-left");
            await form.Locator("input[name=appearanceColor]").FillAsync("red");
            await Expect(form.Locator(".appearance-error")).Not.ToBeEmptyAsync();
            await form.Locator("input[name=appearanceColor]").FillAsync("#FDE047");
            await Expect(form.Locator(".appearance-error")).ToBeEmptyAsync();
            await form.Locator("button[type=submit]").ClickAsync();
            await Expect(admin.Page.Locator($".card[data-inbox='{inboxId}']")).ToBeVisibleAsync();

            // Editing shows the stored look again.
            await form.Locator("input[name=appearanceColor]").FillAsync("");
            await admin.Page.Locator($".card[data-inbox='{inboxId}']").GetByRole(AriaRole.Button, new() { Name = "Edit" }).ClickAsync();
            await Expect(form.Locator("input[name=appearanceColor]")).ToHaveValueAsync("#fde047");
            await Expect(header).ToHaveCSSAsync("background-color", "rgb(253, 224, 71)");
        }

        await using var visitor = await VisitorPage.OpenAsync(fixture, path: $"/demo?inbox={inboxId}");
        var bubble = visitor.Widget.Locator("button.bubble");
        await Expect(bubble).ToHaveCSSAsync("background-color", "rgb(253, 224, 71)");
        var box = (await bubble.BoundingBoxAsync())!;
        var width = await visitor.Page.EvaluateAsync<int>("() => window.innerWidth");
        Assert.True(box.X < width / 2, $"the launcher is on the left (x = {box.X} of {width})");
        await visitor.OpenPanelAsync();
        await Expect(visitor.Widget.Locator("header h2")).ToHaveTextAsync("Ann's <b>shop</b>");
        await Expect(visitor.Widget.Locator("header")).ToHaveCSSAsync("color", "rgb(0, 0, 0)");
    }

    [Fact]
    public async Task Outside_business_hours_the_widget_says_when_the_inbox_is_back_in_the_visitors_language()
    {
        var inboxId = "hours-" + Guid.NewGuid().ToString("N")[..6];
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var tomorrow = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, shanghai).DateTime).AddDays(1);
        using (var http = await fixture.AdminHttpAsync())
        {
            var put = await http.PutAsJsonAsync($"/api/v1/inboxes/{inboxId}", new
            {
                name = "Hours",
                businessHours = new { timeZone = "Asia/Shanghai", days = new[] { new { day = tomorrow.DayOfWeek.ToString().ToLowerInvariant(), open = "09:00", close = "18:00" } } },
            });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        await using (var visitor = await VisitorPage.OpenAsync(fixture, path: $"/demo?inbox={inboxId}"))
        {
            await visitor.OpenPanelAsync();
            await Expect(visitor.Widget.Locator("form.offline")).ToBeVisibleAsync();
            await Expect(visitor.Widget.Locator(".back-at")).ToContainTextAsync($"Back {tomorrow.DayOfWeek} at 09:00 (Asia/Shanghai)");
        }

        // The tests run in globalization-invariant mode: the browser's Chinese day names, by hand.
        var chineseDay = new[] { "星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六" }[(int)tomorrow.DayOfWeek];
        await using var chinese = await VisitorPage.OpenAsync(fixture, "zh-CN", $"/demo?inbox={inboxId}");
        await chinese.OpenPanelAsync();
        await Expect(chinese.Widget.Locator(".back-at")).ToContainTextAsync($"我们将于{chineseDay} 09:00（Asia/Shanghai）回来");
    }
}
