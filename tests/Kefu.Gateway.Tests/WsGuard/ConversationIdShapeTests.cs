using System.Net;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// A conversationId that is not a ULID is refused by the gateway itself, before any grain is called (so made-up ids
/// activate nothing): <c>invalid_field</c> on the WebSocket (§5), <c>404 not_found</c> on REST (§3.2).
/// </summary>
[Collection(GuardGatewayCollection.Name)]
public sealed class ConversationIdShapeTests(GuardGatewayFixture gateway)
{
    [Theory]
    [InlineData("sync")]
    [InlineData("typing")]
    [InlineData("read")]
    [InlineData("join")]
    [InlineData("send")]
    public async Task Websocket_frames_with_a_malformed_conversation_id_are_refused(string type)
    {
        var (_, token) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(token);
        await agent.SendAsync(new { type, clientMsgId = "x1", text = "hi", state = "on", seq = 1, afterSeq = 0, conversationId = "../../etc/passwd" });
        var error = await agent.ExpectAsync("error");
        Assert.Equal("invalid_field", error.Str("code"));
    }

    [Theory]
    [InlineData("/api/v1/conversations/not-a-ulid")]
    [InlineData("/api/v1/conversations/not-a-ulid/messages")]
    [InlineData("/api/v1/conversations/not-a-ulid/notes")]
    public async Task Rest_routes_with_a_malformed_conversation_id_are_not_found(string path)
    {
        using var http = gateway.Http(await gateway.LoginAsync());
        await AuthorizationTests.AssertProblemAsync(await http.GetAsync(path), HttpStatusCode.NotFound, "not_found");
    }
}
