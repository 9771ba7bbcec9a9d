using System.Net.Http.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>Issue #12, item 6: the priority agents set is theirs; the visitor's payloads never show it.</summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class VisitorViewTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task The_visitor_never_sees_the_priority_over_rest_or_websocket()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 3);
        await using var agent = await gateway.ConnectAsync(desk.Agents[0].Token);
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("assigneeId") == desk.Agents[0].Id, "assigned");

        using var http = gateway.Http(desk.Agents[0].Token);
        var labelled = await Desk.Ok(await http.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = new[] { "vip" }, priority = "urgent" }));
        Assert.Equal("urgent", labelled.Str("priority"));

        // The visitor's copy of the change arrives before the agent's next message (one conversation, one lane to
        // a gateway): every conversation frame up to that message reads "normal", and so does its REST view.
        await agent.SendMessageAsync("marker", conversationId);
        var frames = await visitor.ReceiveUntilAsync("message", m => m.Str("text") == "marker");
        Assert.Contains(frames, f => f.Type() == "conversation");
        Assert.All(frames.Where(f => f.Type() == "conversation"), f => Assert.Equal("normal", f.Str("priority")));
        Assert.Equal("normal", (await desk.ConversationAsync(conversationId, visitorToken)).Str("priority"));
        Assert.Equal("urgent", (await desk.ConversationAsync(conversationId)).Str("priority"));
    }
}
