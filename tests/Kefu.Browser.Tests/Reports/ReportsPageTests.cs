using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests.Reports;

/// <summary>
/// The Reports page (admin nav → Reports): after chats were resolved and rated, the tiles, the charts and the group table
/// show their numbers, and the CSV download holds the same rows. The chats are made through the API in an inbox of the
/// test's own, which the page is filtered to.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ReportsPageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task An_admin_reads_the_weeks_report_and_downloads_it_as_csv()
    {
        var inbox = $"rep-{Guid.NewGuid():N}"[..12];
        using var admin = await fixture.AdminHttpAsync();
        (await admin.PutAsJsonAsync($"/api/v1/inboxes/{inbox}", new { name = "Reports" })).EnsureSuccessStatusCode();
        await ChatAsync(admin, inbox, rating: 5);
        await ChatAsync(admin, inbox, rating: 3);
        await ChatAsync(admin, inbox, rating: null); // still open
        await WaitForReportAsync(admin, inbox);

        await using var console = await ConsolePage.LoginAsync(fixture);
        var page = console.Page;
        await page.Locator("#nav a[href='reports.html']").ClickAsync();
        await Expect(page.Locator("main.reports h2")).ToHaveTextAsync("Reports");
        await page.Locator("#group-by").SelectOptionAsync("inbox");
        await page.Locator("#filter-inbox").FillAsync(inbox);
        await page.Locator("#range-form button[type=submit]").ClickAsync();

        await Expect(page.Locator("#tile-conversations")).ToHaveTextAsync("3");
        await Expect(page.Locator("#tile-resolved")).ToHaveTextAsync("2");
        await Expect(page.Locator("#tile-backlog")).ToHaveTextAsync("1");
        await Expect(page.Locator("#tile-csat")).ToHaveTextAsync("4.00 (2)");
        await Expect(page.Locator("#tile-frt")).ToHaveTextAsync("—"); // nobody answered: no first response
        var bars = page.Locator("#chart-days svg rect.bar");
        await Expect(bars).ToHaveCountAsync(7);
        await Expect(bars.Last).ToHaveAttributeAsync("data-count", "3");
        await Expect(page.Locator("#chart-days svg polyline.line")).ToHaveCountAsync(1);
        await Expect(page.Locator("#chart-csat svg rect[data-rating='5']")).ToHaveAttributeAsync("data-count", "1");
        await Expect(page.Locator("#chart-csat svg rect[data-rating='3']")).ToHaveAttributeAsync("data-count", "1");
        await Expect(page.Locator("#chart-csat svg rect[data-rating='1']")).ToHaveAttributeAsync("data-count", "0");
        var row = page.Locator($"#groups-body tr[data-key='{inbox}']");
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("3");
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("2");
        await Expect(row.Locator("td").Nth(7)).ToHaveTextAsync("4.00 (2)");
        await Expect(page.Locator("#group-heading")).ToHaveTextAsync("Inbox");
        await Screenshots.SaveAsync(page, "reports", page.Locator("main.reports"));

        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#csv").ClickAsync());
        Assert.EndsWith(".csv", download.SuggestedFilename, StringComparison.Ordinal);
        var lines = (await File.ReadAllTextAsync((await download.PathAsync())!)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("group,conversations,resolved,", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"{inbox},3,2,", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("(total),3,2,", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(",2,4,0,0,1,0,1,1", lines[1], StringComparison.Ordinal);

        // A bad range is the API's problem, shown on the page.
        await page.Locator("#tz").FillAsync("+99:00");
        await page.Locator("#range-form").EvaluateAsync("f => f.requestSubmit()");
        await Expect(page.Locator("#range-error")).ToBeVisibleAsync();
    }

    /// <summary>A visitor of the inbox says hello; with a rating the admin resolves the chat and the visitor rates it.</summary>
    private async Task ChatAsync(HttpClient admin, string inbox, int? rating)
    {
        using var http = new HttpClient { BaseAddress = fixture.BaseUri };
        var created = await (await http.PostAsJsonAsync("/api/v1/visitors", new { name = "Report visitor", inbox })).EnsureSuccessStatusCode()
            .Content.ReadFromJsonAsync<JsonElement>();
        var token = created.GetProperty("token").GetString()!;
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("kefu.v1.json");
        await socket.ConnectAsync(new UriBuilder(fixture.BaseUri) { Scheme = "ws", Path = "/ws", Query = "access_token=" + Uri.EscapeDataString(token) }.Uri, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"type":"send","clientMsgId":"r1","text":"hello"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        string? conversationId = null;
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (conversationId is null)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            using var frame = JsonDocument.Parse(buffer.AsMemory(0, result.Count));
            if (frame.RootElement.GetProperty("type").GetString() == "ack")
            {
                conversationId = frame.RootElement.GetProperty("conversationId").GetString();
            }
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        if (rating is null)
        {
            return;
        }

        (await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" })).EnsureSuccessStatusCode();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/conversations/{conversationId}/csat") { Content = JsonContent.Create(new { rating }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        (await http.SendAsync(request)).EnsureSuccessStatusCode();
    }

    /// <summary>The projector reads the log in the background: the page is opened once the report has the chats.</summary>
    private static async Task WaitForReportAsync(HttpClient admin, string inbox)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var report = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/reports/overview?inbox={inbox}");
            var totals = report.GetProperty("totals");
            if (totals.GetProperty("conversations").GetInt64() == 3 && totals.GetProperty("csat").GetProperty("count").GetInt64() == 2)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The report never had the chats: {report}");
            await Task.Delay(100);
        }
    }
}
