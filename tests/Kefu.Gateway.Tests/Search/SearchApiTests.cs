using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Search;

/// <summary>
/// GET /api/v1/conversations/search (docs/search.md) over the embedded gateway: messages are indexed from the event log
/// within moments, Chinese and English words find them, agents see what the conversation list shows them, keys see their
/// inboxes and no notes, pages follow the cursor, and bad queries get stable codes. The tenant is shared with other tests,
/// so every test searches words of its own.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class SearchApiTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Agents_find_conversations_by_chinese_and_english_words_as_the_list_shows_them()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 5);
        var (ann, annToken) = desk.Agents[0];
        await using var annSocket = await gateway.ConnectAsync(annToken);
        var (cn, en) = (UniqueHan(), "zq" + Guid.NewGuid().ToString("N")[..10]);
        var (_, _, first) = await desk.VisitorAsync("Ana");
        await using var _1 = first;
        var a = (await first.SendMessageAsync($"我想申请{cn}退款，订单 {en}")).Str("conversationId")!;
        var (_, _, second) = await desk.VisitorAsync("Bo");
        await using var _2 = second;
        var b = (await second.SendMessageAsync($"Where is my parcel? {en}")).Str("conversationId")!;
        await desk.WaitForAsync(a, c => c.Str("assigneeId") == ann, "a assigned to ann");
        await desk.WaitForAsync(b, c => c.Str("assigneeId") == ann, "b assigned to ann");

        using var annHttp = gateway.Http(annToken);
        var both = await WaitForAsync(annHttp, $"q={en}", 2);
        Assert.Equal([b, a], Ids(both)); // newest matching message first
        var hit = both.GetProperty("results")[1].GetProperty("hits")[0];
        Assert.Equal(("message", "visitor", 1L), (hit.Str("kind"), hit.Str("senderRole"), hit.GetProperty("seq").GetInt64()));
        Assert.Contains(en, hit.Str("snippet"), StringComparison.Ordinal);

        Assert.Equal([a], Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={cn}退款")))));
        Assert.Equal([a], Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={cn[..1]}")))));
        Assert.Equal([a], Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q=退款 {en.ToUpperInvariant()}")))));
        Assert.Empty(Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q=parcel 退款 {en}")))));

        // The list's rule: bo (neither assignee nor participant) finds nothing, the admin finds both.
        using var boHttp = gateway.Http(desk.Agents[1].Token);
        Assert.Empty(Ids(await Desk.Ok(await boHttp.GetAsync(Q($"q={en}")))));
        Assert.Equal([b, a], Ids(await Desk.Ok(await desk.Admin.GetAsync(Q($"q={en}")))));

        // Filters: status, tag, inbox, dates.
        await Desk.Ok(await annHttp.PostAsJsonAsync($"/api/v1/conversations/{b}/status", new { status = "resolved" }));
        await Desk.Ok(await annHttp.PatchAsJsonAsync($"/api/v1/conversations/{a}", new { tags = new[] { "Refund" } }));
        await desk.WaitForAsync(b, c => c.Str("status") == "resolved", "b resolved");
        await WaitForAsync(annHttp, $"q={en}&status=resolved", 1);
        Assert.Equal([b], Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&status=resolved")))));
        Assert.Equal([a], Ids(await WaitForAsync(annHttp, $"q={en}&tag=REFUND", 1)));
        Assert.Equal([b, a], Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&inbox={desk.Inbox}")))));
        Assert.Empty(Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&inbox=default")))));
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal([b, a], Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&from={today}&to={today}")))));
        Assert.Empty(Ids(await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}")))));

        // Paging: one at a time, then nothing more.
        var page1 = await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&limit=1")));
        Assert.Equal([b], Ids(page1));
        var page2 = await Desk.Ok(await annHttp.GetAsync(Q($"q={en}&limit=1&cursor={page1.Str("next")}")));
        Assert.Equal([a], Ids(page2));
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task Notes_are_found_by_agents_and_keys_see_only_their_inboxes_and_no_notes()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 5);
        var (ann, annToken) = desk.Agents[0];
        await using var annSocket = await gateway.ConnectAsync(annToken);
        var (en, note) = ("zk" + Guid.NewGuid().ToString("N")[..10], "zn" + Guid.NewGuid().ToString("N")[..10]);
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var id = (await visitor.SendMessageAsync($"hello {en}")).Str("conversationId")!;
        await desk.WaitForAsync(id, c => c.Str("assigneeId") == ann, "assigned to ann");
        using var annHttp = gateway.Http(annToken);
        await Desk.Ok(await annHttp.PostAsJsonAsync($"/api/v1/conversations/{id}/notes", new { text = $"VIP reseller {note} 经销商" }));

        var found = await WaitForAsync(annHttp, $"q={note}", 1);
        var hit = found.GetProperty("results")[0].GetProperty("hits")[0];
        Assert.Equal(("note", "agent"), (hit.Str("kind"), hit.Str("senderRole")));

        using var key = gateway.Http(await KeyAsync(desk.Admin, ["conversations:read"]));
        Assert.Equal([id], Ids(await Desk.Ok(await key.GetAsync(Q($"q={en}")))));
        Assert.Empty(Ids(await Desk.Ok(await key.GetAsync(Q($"q={note}")))));
        using var elsewhere = gateway.Http(await KeyAsync(desk.Admin, ["conversations:read"], ["default"]));
        Assert.Empty(Ids(await Desk.Ok(await elsewhere.GetAsync(Q($"q={en}")))));
        Assert.Empty(Ids(await Desk.Ok(await elsewhere.GetAsync(Q($"q={en}&inbox={desk.Inbox}")))));
        using var mine = gateway.Http(await KeyAsync(desk.Admin, ["conversations:read"], [desk.Inbox]));
        Assert.Equal([id], Ids(await Desk.Ok(await mine.GetAsync(Q($"q={en}")))));
        using var unscoped = gateway.Http(await KeyAsync(desk.Admin, ["events:read"]));
        Assert.Equal("missing_scope", await Desk.ProblemCode(await unscoped.GetAsync(Q($"q={en}")), HttpStatusCode.Forbidden));

        using var visitorHttp = gateway.Http(visitorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitorHttp.GetAsync(Q($"q={en}"))).StatusCode);
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Q($"q={en}"))).StatusCode);
    }

    [Fact]
    public async Task A_contacts_conversations_are_found_by_its_id()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 5);
        await using var annSocket = await gateway.ConnectAsync(desk.Agents[0].Token);
        var en = "zc" + Guid.NewGuid().ToString("N")[..10];
        var inboxes = await Desk.Ok(await desk.Admin.GetAsync("/api/v1/inboxes"));
        var secret = inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == desk.Inbox).Str("identitySecret")!;
        using var anonymous = gateway.Http();
        var userId = "u-" + Guid.NewGuid().ToString("N");
        var known = await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors",
            new { name = "Ana", userId, userHash = VisitorIdentity.Hash(secret, userId), inbox = desk.Inbox }));
        await using var socket = await gateway.ConnectAsync(known.Str("token")!);
        var id = (await socket.SendMessageAsync($"my order {en}")).Str("conversationId")!;
        var (_, _, other) = await desk.VisitorAsync();
        await using var _ = other;
        await other.SendMessageAsync($"also {en}");

        await WaitForAsync(desk.Admin, $"q={en}", 2);
        Assert.Equal([id], Ids(await Desk.Ok(await desk.Admin.GetAsync(Q($"q={en}&contact={known.Str("contactId")}")))));
        Assert.Empty(Ids(await Desk.Ok(await desk.Admin.GetAsync(Q($"q={en}&contact={Ulid.NewUlid()}")))));
    }

    [Fact]
    public async Task Bad_queries_are_refused_with_stable_codes()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        foreach (var query in new[] { "", "q=", "q=%20%20", "q=" + new string('a', 201), "q=!!%20%F0%9F%98%80", "q=a&q=b",
                     "q=" + string.Join("%20", Enumerable.Range(0, 33).Select(i => "w" + i)) })
        {
            Assert.Equal("invalid_query", await Desk.ProblemCode(await admin.GetAsync(Q(query)), HttpStatusCode.BadRequest));
        }

        foreach (var query in new[] { "q=x&from=yesterday", "q=x&to=2026-13-01", "q=x&from=2026-12-02&to=2026-12-01", "q=x&limit=0", "q=x&limit=101",
                     "q=x&limit=ten", "q=x&status=lost", "q=x&contact=bob", "q=x&inbox=Bad%20Inbox", "q=x&tag=" + new string('t', 33) })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.GetAsync(Q(query)), HttpStatusCode.BadRequest));
        }

        Assert.Equal("invalid_cursor", await Desk.ProblemCode(await admin.GetAsync(Q("q=x&cursor=12")), HttpStatusCode.BadRequest));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(Q("q=x&from=2026-12-01T08:00:00Z&to=2026-12-01"))).StatusCode);
    }

    private static string Q(string query) => "/api/v1/conversations/search?" + query;

    private static string[] Ids(JsonElement page) => [.. page.GetProperty("results").EnumerateArray().Select(r => r.Str("conversationId")!)];

    /// <summary>Polls until the search finds <paramref name="count"/> conversations (the indexer reads the event log moments after the commit).</summary>
    private static async Task<JsonElement> WaitForAsync(HttpClient http, string query, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement page;
        do
        {
            page = await Desk.Ok(await http.GetAsync(Q(query)));
            if (page.GetProperty("results").GetArrayLength() == count)
            {
                return page;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"search {query} found {page.GetProperty("results").GetArrayLength()} conversations, not {count}");
        return page;
    }

    /// <summary>Two Han characters no other test writes.</summary>
    private static string UniqueHan()
    {
        var n = Random.Shared.Next(0, 20_000);
        return string.Concat((char)(0x4E00 + n), (char)(0x4E00 + ((n * 7) % 20_000)));
    }

    private static async Task<string> KeyAsync(HttpClient admin, string[] scopes, string[]? inboxes = null)
    {
        var created = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "search test", scopes, inboxes }));
        return created.Str("key")!;
    }
}
