using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Api;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Reports;

/// <summary>
/// GET /api/v1/reports/overview(.csv) over the embedded gateway: chats resolved and rated through the public API reach
/// the report through the event log and the projector. Each test reads only its own desk's inbox, so tests running in
/// parallel on the same tenant do not disturb it.
/// </summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class ReportsApiTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task Resolved_and_rated_chats_show_in_the_json_and_csv_report()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 5);
        var (agentId, agentToken) = desk.Agents[0];
        await using var agent = await gateway.ConnectAsync(agentToken);
        using var agentHttp = gateway.Http(agentToken);
        await ChatAsync(desk, agent, agentHttp, rating: 5);
        await ChatAsync(desk, agent, agentHttp, rating: 3);
        await ChatAsync(desk, agent, agentHttp, rating: null); // still open: the backlog

        var query = $"inbox={desk.Inbox}&groupBy=agent&tz=%2B08:00";
        var report = await WaitForReportAsync(desk.Admin, query, r => r.GetProperty("totals").GetProperty("csat").GetProperty("count").GetInt64() == 2
            && r.GetProperty("totals").GetProperty("conversations").GetInt64() == 3);

        var totals = report.GetProperty("totals");
        Assert.Equal(2, totals.GetProperty("resolved").GetInt64());
        Assert.Equal(1, totals.GetProperty("backlog").GetInt64());
        Assert.Equal(4.0, totals.GetProperty("csat").GetProperty("average").GetDouble());
        Assert.Equal([0L, 0, 1, 0, 1], totals.GetProperty("csat").GetProperty("distribution").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(2, totals.GetProperty("firstResponse").GetProperty("count").GetInt64());
        Assert.True(totals.GetProperty("firstResponse").GetProperty("medianSeconds").GetDouble() >= 0);
        Assert.Equal(2, totals.GetProperty("resolution").GetProperty("count").GetInt64());
        Assert.Equal("+08:00", report.GetProperty("tz").GetString());
        var days = report.GetProperty("days").EnumerateArray().ToList();
        Assert.Equal(7, days.Count);
        Assert.Equal(3, days[^1].GetProperty("conversations").GetInt64());
        Assert.Equal(1, days[^1].GetProperty("backlog").GetInt64());
        var group = Assert.Single(report.GetProperty("groups").EnumerateArray());
        Assert.Equal(agentId, group.GetProperty("key").GetString());
        Assert.Equal(3, group.GetProperty("conversations").GetInt64());

        // The team is the conversation's (set by a transfer to a team): these were never transferred, so they have none.
        var byTeam = await Desk.Ok(await desk.Admin.GetAsync($"/api/v1/reports/overview?inbox={desk.Inbox}&groupBy=team"));
        Assert.Equal("", Assert.Single(byTeam.GetProperty("groups").EnumerateArray()).GetProperty("key").GetString());
        var agentOnly = await Desk.Ok(await desk.Admin.GetAsync($"/api/v1/reports/overview?agent={agentId}&groupBy=inbox"));
        Assert.Equal(3, Assert.Single(agentOnly.GetProperty("groups").EnumerateArray(), g => g.GetProperty("key").GetString() == desk.Inbox).GetProperty("conversations").GetInt64());

        var csv = await desk.Admin.GetAsync($"/api/v1/reports/overview.csv?{query}");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("group,conversations,resolved,first_response_median_s", lines[0], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length); // header, the agent, (total)
        Assert.StartsWith($"{agentId},3,2,", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(",2,4,0,0,1,0,1,1", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("(total),3,2,", lines[2], StringComparison.Ordinal);

        var dayLines = (await desk.Admin.GetStringAsync($"/api/v1/reports/overview.csv?{query}&table=days")).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("date,conversations,resolved,backlog", dayLines[0]);
        Assert.Equal(8, dayLines.Length);
        Assert.EndsWith(",3,2,1", dayLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answered_chat_with_no_later_event_shows_its_first_response()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 5);
        await using var agent = await gateway.ConnectAsync(desk.Agents[0].Token);
        var (_, _, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "open" && c.Str("assigneeId") == desk.Agents[0].Id, "assigned");
        await visitor.SendMessageAsync("are you there?"); // a visitor message is no response

        // The agent's reply is the conversation's last event: the first response comes from its message.created.
        await agent.SendMessageAsync("Here is your answer", conversationId);

        var report = await WaitForReportAsync(desk.Admin, $"inbox={desk.Inbox}",
            r => r.GetProperty("totals").GetProperty("firstResponse").GetProperty("count").GetInt64() == 1);
        var totals = report.GetProperty("totals");
        Assert.Equal(1, totals.GetProperty("conversations").GetInt64());
        Assert.Equal(1, totals.GetProperty("backlog").GetInt64());
        Assert.InRange(totals.GetProperty("firstResponse").GetProperty("medianSeconds").GetDouble(), 0, 60);
    }

    [Theory]
    [InlineData("from=2026-03-10&to=2026-03-01", "invalid_range")]
    [InlineData("from=2026-03-10&to=2026-03-10", "invalid_range")]
    [InlineData("from=2025-01-01&to=2026-01-03", "invalid_range")]
    [InlineData("from=2026-13-01", "invalid_field")]
    [InlineData("tz=%2B15:00", "invalid_field")]
    [InlineData("tz=Europe/Paris", "invalid_field")]
    [InlineData("groupBy=visitor", "invalid_field")]
    [InlineData("agent=Not%20An%20Id", "invalid_field")]
    public async Task Bad_queries_are_problems_with_a_stable_code(string query, string code)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        Assert.Equal(code, await Desk.ProblemCode(await admin.GetAsync("/api/v1/reports/overview?" + query), HttpStatusCode.BadRequest));
        Assert.Equal(code, await Desk.ProblemCode(await admin.GetAsync("/api/v1/reports/overview.csv?" + query), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task A_year_is_allowed_and_agents_and_anonymous_callers_are_not()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 1);
        var year = await Desk.Ok(await desk.Admin.GetAsync($"/api/v1/reports/overview?from=2024-01-01&to=2025-01-01&inbox={desk.Inbox}"));
        Assert.Equal(366, year.GetProperty("days").GetArrayLength());
        Assert.Equal(0, year.GetProperty("totals").GetProperty("conversations").GetInt64());

        using var agent = gateway.Http(desk.Agents[0].Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/v1/reports/overview")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/v1/reports/overview.csv")).StatusCode);
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/reports/overview")).StatusCode);
    }

    [Fact]
    public void Csv_fields_are_quoted_and_formulas_written_as_text()
    {
        var csv = new StringBuilder();
        ReportsApi.Line(csv, ["plain", "a,b", "say \"hi\"", "two\nlines", "=SUM(A1)", "-3.5", "@x"]);
        Assert.Equal("plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",'=SUM(A1),-3.5,'@x\r\n", csv.ToString());
    }

    private async Task ChatAsync(Desk desk, ChatClient agent, HttpClient agentHttp, int? rating)
    {
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "open" && c.Str("assigneeId") == desk.Agents[0].Id, "assigned");
        if (rating is null)
        {
            return;
        }

        await agent.SendMessageAsync("Here is your answer", conversationId);
        await Desk.Ok(await agentHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        using var visitorHttp = gateway.Http(visitorToken);
        await Desk.Ok(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating, comment = "private words" }));
    }

    /// <summary>The report once <paramref name="ready"/> holds (the projector reads the log in the background).</summary>
    private static async Task<JsonElement> WaitForReportAsync(HttpClient admin, string query, Func<JsonElement, bool> ready)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement last;
        do
        {
            last = await Desk.Ok(await admin.GetAsync("/api/v1/reports/overview?" + query));
            if (ready(last))
            {
                Assert.DoesNotContain("private words", last.GetRawText(), StringComparison.Ordinal);
                return last;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"The report never got there: {last}");
        return last;
    }
}
