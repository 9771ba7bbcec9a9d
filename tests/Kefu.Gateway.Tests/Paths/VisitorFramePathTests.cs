using System.Net.Http.Json;
using Kefu.Contracts.Grains;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Paths;

/// <summary>
/// A visitor's frames without a conversation id go to the visitor's current conversation, which the connection
/// learns once instead of asking the visitor grain on every frame (issue #13, item 3).
/// </summary>
[Collection(ProbedGatewayCollection.Name)]
public sealed class VisitorFramePathTests(ProbedGatewayFixture gateway)
{
    private int VisitorLookups(string visitorId) =>
        gateway.Probe.Count<IVisitorGrain>(visitorId, nameof(IVisitorGrain.GetOrStartConversation))
        + gateway.Probe.Count<IVisitorGrain>(visitorId, nameof(IVisitorGrain.GetCurrentConversation));

    [Fact]
    public async Task A_visitor_connection_asks_the_visitor_grain_for_its_conversation_once()
    {
        var (visitorId, token) = await gateway.CreateVisitorAsync("Once");
        await using var visitor = await gateway.ConnectAsync(token);
        var first = await visitor.SendMessageAsync("hello");
        var conversationId = first.Str("conversationId")!;
        Assert.Equal(1, VisitorLookups(visitorId));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(conversationId, (await visitor.SendMessageAsync($"more {i}")).Str("conversationId"));
        }

        await visitor.SendAsync(new { type = "typing", state = "on" });
        await visitor.SendAsync(new { type = "read", seq = first.Long("seq") });
        await visitor.SendAsync(new { type = "sync", afterSeq = 0 });
        var synced = await visitor.ReceiveUntilAsync("synced");
        Assert.Equal(6, synced.Count(f => f.Type() == "message"));
        Assert.Equal(1, VisitorLookups(visitorId));
    }

    [Fact]
    public async Task Frames_keep_working_after_the_conversation_is_resolved_and_after_another_connection_started_it()
    {
        var (visitorId, token) = await gateway.CreateVisitorAsync("Returning");

        // Two tabs: the second one is open before the conversation exists and learns it from what is pushed to it.
        await using var tab = await gateway.ConnectAsync(token);
        await using var otherTab = await gateway.ConnectAsync(token);
        var conversationId = (await tab.SendMessageAsync("first question")).Str("conversationId")!;
        await otherTab.ReceiveUntilAsync("message", f => f.Str("conversationId") == conversationId);
        await otherTab.SendAsync(new { type = "sync", afterSeq = 0 });
        Assert.Contains(await otherTab.ReceiveUntilAsync("synced"), f => f.Type() == "synced" && f.Str("conversationId") == conversationId);

        // An agent answers and resolves it; the visitor writes again without naming the conversation: it reopens.
        await using var agent = await gateway.ConnectAsync(await gateway.LoginAsync());
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ExpectAsync("joined");
        await agent.SendMessageAsync("answer", conversationId);
        using var admin = gateway.Http(await gateway.LoginAsync());
        await Desk.Ok(await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));

        var again = await otherTab.SendMessageAsync("one more thing");
        Assert.Equal(conversationId, again.Str("conversationId"));
        await agent.ReceiveUntilAsync("message", f => f.Str("text") == "one more thing");
        var reopened = await Desk.Ok(await admin.GetAsync($"/api/v1/conversations/{conversationId}"));
        Assert.NotEqual("resolved", reopened.Str("status"));

        await tab.SendAsync(new { type = "typing", state = "on" });
        await agent.ReceiveUntilAsync("typing");

        // One lookup each at most: the sending tab started it, the other learned it from a push.
        Assert.True(VisitorLookups(visitorId) <= 2, $"{VisitorLookups(visitorId)} lookups");
    }
}
