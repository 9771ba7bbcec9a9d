using System.Net;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Search;

/// <summary>
/// POST and GET /api/v1/conversations/search/reindex (docs/search.md "Backfill") over the embedded gateway: an admin starts
/// a run (202 with its progress), watches it finish, and the tenant's messages stay found once each; others may not.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SearchReindexApiTests(GatewayFixture gateway)
{
    private const string Path = "/api/v1/conversations/search/reindex";

    [Fact]
    public async Task An_admin_starts_a_run_and_watches_it_finish_and_no_one_else_may()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 5);
        var word = "zr" + Guid.NewGuid().ToString("N")[..10];
        var (_, _, visitor) = await desk.VisitorAsync("Ana");
        await using var _1 = visitor;
        var id = (await visitor.SendMessageAsync($"reindex {word}")).Str("conversationId")!;
        await visitor.SendMessageAsync($"again {word}");

        var started = await desk.Admin.PostAsync(Path, null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.EndsWith(Path, started.Headers.Location?.ToString(), StringComparison.Ordinal);
        var run = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(run.Str("state"), new[] { "running", "done" });
        var runs = run.GetProperty("runs").GetInt32();
        Assert.True(runs >= 1);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement status;
        do
        {
            status = await Desk.Ok(await desk.Admin.GetAsync(Path));
        }
        while (status.Str("state") != "done" && DateTime.UtcNow < deadline && await Delay());

        Assert.Equal("done", status.Str("state"));
        Assert.Equal(runs, status.GetProperty("runs").GetInt32());
        Assert.True(status.GetProperty("messages").GetInt64() >= 2);
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("completedAt").ValueKind);

        // Found by the live indexer and again by the run: still one conversation with its two messages.
        // (A run already on when asked may have passed the conversation before its messages: the live indexer has them.)
        JsonElement page;
        do
        {
            page = await Desk.Ok(await desk.Admin.GetAsync($"/api/v1/conversations/search?q={word}"));
        }
        while (Hits(page) < 2 && DateTime.UtcNow < deadline.AddSeconds(10) && await Delay());

        var result = Assert.Single(page.GetProperty("results").EnumerateArray());
        Assert.Equal(id, result.Str("conversationId"));
        Assert.Equal(2, result.GetProperty("hits").GetArrayLength());

        using var agent = gateway.Http(desk.Agents[0].Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.PostAsync(Path, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync(Path)).StatusCode);
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(Path, null)).StatusCode);
    }

    private static int Hits(JsonElement page) =>
        page.GetProperty("results").EnumerateArray().Sum(r => r.GetProperty("hits").GetArrayLength());

    private static async Task<bool> Delay()
    {
        await Task.Delay(50);
        return true;
    }
}
