using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Paths;

/// <summary>
/// <c>GET /api/v1/conversations</c> answers from the directory alone: listing never calls (or activates) the listed
/// conversations, and the directory row carries everything the list shows (issue #13, item 3).
/// </summary>
[Collection(ProbedGatewayCollection.Name)]
public sealed class ConversationListPathTests(ProbedGatewayFixture gateway)
{
    [Fact]
    public async Task The_list_shows_preview_unread_status_labels_and_rating_without_calling_the_conversations()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        await using var agent = await gateway.ConnectAsync(await gateway.LoginAsync());

        // An open conversation with an answer, two unread visitor messages, tags and a priority.
        var (_, openToken) = await gateway.CreateVisitorAsync("Open Olga");
        await using var olga = await gateway.ConnectAsync(openToken);
        var openId = (await olga.SendMessageAsync("hello")).Str("conversationId")!;
        await agent.SendAsync(new { type = "join", conversationId = openId });
        await agent.ExpectAsync("joined");
        await agent.SendMessageAsync("Hi Olga", openId);
        await olga.SendMessageAsync("my order");
        var lastOfOlga = await olga.SendMessageAsync("is   late");
        await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/conversations/{openId}", new { tags = new[] { "late, again", "vip" }, priority = "high" }));

        // A resolved conversation the visitor rated.
        var (_, resolvedToken) = await gateway.CreateVisitorAsync("Rated Rita");
        await using var rita = await gateway.ConnectAsync(resolvedToken);
        var resolvedId = (await rita.SendMessageAsync("a quick question")).Str("conversationId")!;
        await agent.SendAsync(new { type = "join", conversationId = resolvedId });
        await agent.ReceiveUntilAsync("joined", f => f.Str("conversationId") == resolvedId);
        await agent.SendMessageAsync("a quick answer", resolvedId);
        await Desk.Ok(await admin.PostAsJsonAsync($"/api/v1/conversations/{resolvedId}/status", new { status = "resolved" }));
        using var ritaHttp = gateway.Http(resolvedToken);
        await Desk.Ok(await ritaHttp.PostAsJsonAsync($"/api/v1/conversations/{resolvedId}/csat", new { rating = 4, comment = "quick" }));

        // The directory follows the messages within about a second (coalesced writes): wait for it, then list.
        await WaitForRowAsync(admin, openId, r => r.Long("lastSeq") == lastOfOlga.Long("seq") && r.GetProperty("unread").GetInt32() == 2);
        await WaitForRowAsync(admin, resolvedId, r => r.GetProperty("csat").ValueKind == JsonValueKind.Object);

        var callsBefore = ConversationCalls(openId) + ConversationCalls(resolvedId);
        var directoryReadsBefore = gateway.Probe.Count<IConversationDirectoryGrain>(string.Empty);
        var list = await ListAsync(admin);

        // One read of the directory (a stateless worker), and no call to the listed conversations.
        Assert.Equal(callsBefore, ConversationCalls(openId) + ConversationCalls(resolvedId));
        Assert.Equal(directoryReadsBefore + 1, gateway.Probe.Count<IConversationDirectoryGrain>(string.Empty));

        var open = list.Single(c => c.Str("conversationId") == openId);
        Assert.Equal("open", open.Str("status"));
        Assert.Equal("is late", open.Str("preview"));
        Assert.Equal(2, open.GetProperty("unread").GetInt32());
        Assert.Equal(lastOfOlga.Long("seq"), open.Long("lastSeq"));
        Assert.Equal(lastOfOlga.GetProperty("ts").GetDateTime(), open.GetProperty("lastActivityAt").GetDateTime());
        Assert.Equal(["late, again", "vip"], open.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        Assert.Equal("high", open.Str("priority"));
        Assert.Equal("Open Olga", open.Str("visitorName"));
        Assert.Equal("admin", open.Str("assigneeId"));
        Assert.Contains("admin", open.GetProperty("agentIds").EnumerateArray().Select(a => a.GetString()));
        Assert.NotEqual(JsonValueKind.Null, open.GetProperty("firstResponseSeconds").ValueKind);

        var resolved = list.Single(c => c.Str("conversationId") == resolvedId);
        Assert.Equal("resolved", resolved.Str("status"));
        Assert.Equal("a quick answer", resolved.Str("preview"));
        Assert.Equal(0, resolved.GetProperty("unread").GetInt32());
        Assert.Equal(4, resolved.GetProperty("csat").GetProperty("rating").GetInt32());
        Assert.Equal("quick", resolved.GetProperty("csat").Str("comment"));
        Assert.NotEqual(JsonValueKind.Null, resolved.GetProperty("resolutionSeconds").ValueKind);

        // The agent reads Olga's messages: the list shows nothing unread once the row follows, still without asking her conversation.
        await agent.SendAsync(new { type = "read", conversationId = openId, seq = lastOfOlga.Long("seq") });
        await olga.ReceiveUntilAsync("read");
        var callsAfterRead = ConversationCalls(openId);
        await WaitForRowAsync(admin, openId, r => r.GetProperty("unread").GetInt32() == 0);
        Assert.Equal(callsAfterRead, ConversationCalls(openId));
    }

    private int ConversationCalls(string conversationId) => gateway.Probe.Count<IConversationGrain>(conversationId);

    private static Task WaitForRowAsync(HttpClient http, string conversationId, Func<JsonElement, bool> condition) =>
        ConversationList.WaitForRowAsync(http, conversationId, condition, "?limit=500");

    private static Task<JsonElement[]> ListAsync(HttpClient http) => ConversationList.GetAsync(http, "?limit=500");
}
