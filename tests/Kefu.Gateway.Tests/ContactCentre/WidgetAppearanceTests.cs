using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>An inbox's widget appearance and "back at …" as the widget reads them from GET /api/v1/widget/{key}.</summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class WidgetAppearanceTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task The_widget_gets_the_inbox_colour_with_a_readable_text_colour_title_and_corner()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 0, capacity: 1);
        var saved = await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new
        {
            name = "Shop",
            appearance = new { color = "#FDE047", title = " Help desk ", position = "bottom-left" },
        }));
        Assert.Equal("#fde047", saved.GetProperty("appearance").Str("color"));
        Assert.Equal("Help desk", saved.GetProperty("appearance").Str("title"));

        var widget = await WidgetAsync(await KeyAsync(desk));
        var look = widget.GetProperty("appearance");
        Assert.Equal("#fde047", look.Str("color"));
        Assert.Equal("#000000", look.Str("textColor")); // pale yellow: dark text
        Assert.Equal("Help desk", look.Str("title"));
        Assert.Equal("bottom-left", look.Str("position"));

        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new { name = "Shop", appearance = new { color = "#1e3a8a" } }));
        look = (await WidgetAsync(await KeyAsync(desk))).GetProperty("appearance");
        Assert.Equal("#ffffff", look.Str("textColor"));
        Assert.Equal("bottom-right", look.Str("position"));
        Assert.Equal(JsonValueKind.Null, look.GetProperty("title").ValueKind);

        // No appearance: the widget's own look.
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new { name = "Shop" }));
        Assert.Equal(JsonValueKind.Null, (await WidgetAsync(await KeyAsync(desk))).GetProperty("appearance").ValueKind);
    }

    [Fact]
    public async Task A_bad_appearance_is_refused_and_the_old_one_kept()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 0, capacity: 1);
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new { name = "Shop", appearance = new { color = "#123456" } }));
        foreach (var appearance in new object[]
        {
            new { color = "red" },
            new { color = "#12345" },
            new { color = "#123456\" onload=\"x" },
            new { position = "top-left" },
            new { title = new string('t', 61) },
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(
                await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new { name = "Shop", appearance }), HttpStatusCode.BadRequest));
        }

        Assert.Equal("#123456", (await WidgetAsync(await KeyAsync(desk))).GetProperty("appearance").Str("color"));
    }

    [Fact]
    public async Task Outside_business_hours_the_widget_learns_when_the_inbox_opens_next()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 0, capacity: 1);
        var key = await KeyAsync(desk);
        Assert.Equal(JsonValueKind.Null, (await WidgetAsync(key)).GetProperty("nextOpening").ValueKind); // always open

        // Open tomorrow (in Shanghai) only: closed now, opening tomorrow at 09:00 Shanghai time.
        var shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
        var tomorrow = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, shanghai).DateTime).AddDays(1);
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new
        {
            name = "Shop",
            businessHours = new { timeZone = "Asia/Shanghai", days = new[] { new { day = tomorrow.DayOfWeek.ToString().ToLowerInvariant(), open = "09:00", close = "18:00" } } },
        }));
        var widget = await WidgetAsync(key);
        Assert.False(widget.GetProperty("withinBusinessHours").GetBoolean());
        Assert.Equal("Asia/Shanghai", widget.Str("timeZone"));
        var next = widget.GetProperty("nextOpening").GetDateTimeOffset();
        Assert.Equal(new DateTimeOffset(tomorrow.ToDateTime(new TimeOnly(9, 0)), TimeSpan.FromHours(8)), next);
        Assert.Equal(TimeSpan.FromHours(8), next.Offset);

        // Never open: no next opening to promise.
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new
        {
            name = "Shop",
            businessHours = new { timeZone = "Asia/Shanghai", days = Array.Empty<object>() },
        }));
        Assert.Equal(JsonValueKind.Null, (await WidgetAsync(key)).GetProperty("nextOpening").ValueKind);
    }

    private static async Task<string> KeyAsync(Desk desk) =>
        (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.Str("inboxId") == desk.Inbox).Str("publicKey")!;

    private async Task<JsonElement> WidgetAsync(string key)
    {
        using var anonymous = gateway.Http();
        return await Desk.Ok(await anonymous.GetAsync($"/api/v1/widget/{key}"));
    }
}
