using System.Net;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// <c>GET /api/v1/conversations/{id}/read</c>: the visitor's read mark, so a console opening a conversation shows
/// "read" at once instead of "sent" until the next read frame (issue #11, item 4).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ReadMarksApiTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Agents_who_may_see_a_conversation_read_how_far_the_visitor_has_read()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync("Reader");
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("question")).Str("conversationId")!;
        using var admin = gateway.Http(await gateway.LoginAsync());

        var before = await Desk.Ok(await admin.GetAsync($"/api/v1/conversations/{conversationId}/read"));
        Assert.Equal(conversationId, before.Str("conversationId"));
        Assert.Equal(1, before.Long("visitorReadSeq")); // its own message: sending marks it read

        // The admin takes it and answers; the visitor reads the answer.
        await using var agentSocket = await gateway.ConnectAsync(await gateway.LoginAsync());
        await agentSocket.SendAsync(new { type = "join", conversationId });
        await agentSocket.ExpectAsync("joined");
        var answer = await agentSocket.SendMessageAsync("answer", conversationId);
        await visitor.SendAsync(new { type = "read", conversationId, seq = answer.Long("seq") });
        await agentSocket.ReceiveUntilAsync("read");
        var after = await Desk.Ok(await admin.GetAsync($"/api/v1/conversations/{conversationId}/read"));
        Assert.Equal(answer.Long("seq"), after.Long("visitorReadSeq"));

        // An agent it is not assigned to, a visitor token and an unknown id get nothing.
        var (_, otherToken) = await gateway.CreateAgentAsync();
        using var other = gateway.Http(otherToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await other.GetAsync($"/api/v1/conversations/{conversationId}/read"), HttpStatusCode.Forbidden));
        using var asVisitor = gateway.Http(visitorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await asVisitor.GetAsync($"/api/v1/conversations/{conversationId}/read")).StatusCode);
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync("/api/v1/conversations/01ARZ3NDEKTSV4RRFFQ69G5FAV/read"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync("/api/v1/conversations/not-an-id/read"), HttpStatusCode.NotFound));
    }
}
