using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AuthorizationTests(GatewayFixture gateway)
{
    [Fact]
    public async Task A_visitor_cannot_see_or_write_another_visitors_conversation()
    {
        var (_, tokenA) = await gateway.CreateVisitorAsync("A");
        await using var a = await gateway.ConnectAsync(tokenA);
        var conversationId = (await a.SendMessageAsync("private to A")).Str("conversationId")!;

        var (_, tokenB) = await gateway.CreateVisitorAsync("B");
        using (var http = gateway.Http(tokenB))
        {
            var response = await http.GetAsync($"/api/v1/conversations/{conversationId}/messages");
            await AssertProblemAsync(response, HttpStatusCode.Forbidden, "not_allowed");
            response = await http.GetAsync("/api/v1/conversations");
            await AssertProblemAsync(response, HttpStatusCode.Forbidden, "not_allowed");
        }

        await using var b = await gateway.ConnectAsync(tokenB);
        await b.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var error = await b.ExpectAsync("error");
        Assert.Equal("not_allowed", error.Str("code"));

        await b.SendAsync(new { type = "send", clientMsgId = "intrude", text = "hi", conversationId });
        error = await b.ExpectAsync("error");
        Assert.Equal("not_allowed", error.Str("code"));
        Assert.Equal("intrude", error.Str("ref"));

        await b.SendAsync(new { type = "typing", conversationId, state = "on" });
        Assert.Equal("not_allowed", (await b.ExpectAsync("error")).Str("code"));
        await b.SendAsync(new { type = "join", conversationId });
        Assert.Equal("not_allowed", (await b.ExpectAsync("error")).Str("code"));

        // A still owns exactly its one message.
        using var own = gateway.Http(tokenA);
        var history = await own.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages");
        Assert.Equal(["private to A"], history.GetProperty("messages").EnumerateArray().Select(m => m.Str("text")));
    }

    [Fact]
    public async Task Missing_or_bad_tokens_are_refused_before_the_upgrade()
    {
        foreach (var query in new[] { string.Empty, "?access_token=not-a-token", "?access_token=" })
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(new Uri(gateway.WebSocketUri + query), CancellationToken.None));
            Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
        }

        using var http = gateway.Http();
        await AssertProblemAsync(await http.GetAsync("/api/v1/conversations"), HttpStatusCode.Unauthorized, "unauthorized");
        using var forged = gateway.Http("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJhZG1pbiJ9.c2lnbmF0dXJl");
        await AssertProblemAsync(await forged.GetAsync("/api/v1/conversations"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task The_websocket_takes_a_bearer_header_too_and_answers_401_with_a_problem_before_any_upgrade()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        using (var socket = new ClientWebSocket())
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            await socket.ConnectAsync(gateway.WebSocketUri, CancellationToken.None);
            Assert.Equal(WebSocketState.Open, socket.State);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }

        // A plain GET with a bad token: the same problem answer as the REST API's.
        using var http = gateway.Http("not-a-token");
        var response = await http.GetAsync("/ws");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        using var valid = gateway.Http(token);
        await AssertProblemAsync(await valid.GetAsync("/ws"), HttpStatusCode.BadRequest, "websocket_required");
    }

    [Fact]
    public async Task An_unsupported_subprotocol_is_refused()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.AddSubProtocol("chat.v9");
        await Assert.ThrowsAnyAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"{gateway.WebSocketUri}?access_token={token}"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Login_checks_the_password()
    {
        using var http = gateway.Http();
        var wrong = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = "nope" });
        await AssertProblemAsync(wrong, HttpStatusCode.Unauthorized, "invalid_credentials");
        var unknown = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "nobody", password = "nope" });
        await AssertProblemAsync(unknown, HttpStatusCode.Unauthorized, "invalid_credentials");

        var ok = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = GatewayFixture.AdminPassword });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var body = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("admin", body.Str("agentId"));
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.EndsWith("Z", body.Str("expiresAt"), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(body.Str("token")));
    }

    [Fact]
    public async Task Agents_see_only_what_their_role_allows()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("help")).Str("conversationId")!;

        var (_, firstToken) = await gateway.CreateAgentAsync();
        await using var first = await gateway.ConnectAsync(firstToken);
        await first.SendAsync(new { type = "join", conversationId });
        await first.ReceiveUntilAsync("joined");

        // Another (non-admin) agent: the conversation is assigned to someone else.
        var (_, secondToken) = await gateway.CreateAgentAsync();
        using (var http = gateway.Http(secondToken))
        {
            var list = await http.GetFromJsonAsync<JsonElement>("/api/v1/conversations");
            Assert.DoesNotContain(list.GetProperty("conversations").EnumerateArray(), c => c.Str("conversationId") == conversationId);
            await AssertProblemAsync(await http.GetAsync($"/api/v1/conversations/{conversationId}/messages"), HttpStatusCode.Forbidden, "not_allowed");
            await AssertProblemAsync(
                await http.PostAsJsonAsync("/api/v1/agents", new { username = "sneaky", password = "password-123" }),
                HttpStatusCode.Forbidden,
                "not_allowed");
        }

        await using var second = await gateway.ConnectAsync(secondToken);
        await second.SendAsync(new { type = "join", conversationId });
        Assert.Equal("not_allowed", (await second.ExpectAsync("error")).Str("code"));
        await second.SendAsync(new { type = "send", clientMsgId = "x", text = "hi", conversationId });
        Assert.Equal("not_allowed", (await second.ExpectAsync("error")).Str("code"));

        // The admin sees and may read everything in the tenant.
        using var admin = gateway.Http(await gateway.LoginAsync());
        var all = await admin.GetFromJsonAsync<JsonElement>("/api/v1/conversations");
        Assert.Contains(all.GetProperty("conversations").EnumerateArray(), c => c.Str("conversationId") == conversationId);
        var history = await admin.GetAsync($"/api/v1/conversations/{conversationId}/messages");
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
    }

    [Fact]
    public async Task Unknown_conversations_are_not_found()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        await AssertProblemAsync(await admin.GetAsync($"/api/v1/conversations/{Ulid.NewUlid()}/messages"), HttpStatusCode.NotFound, "not_found");
        await AssertProblemAsync(await admin.GetAsync("/api/v1/conversations/not-an-id/messages"), HttpStatusCode.NotFound, "not_found");
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(code, problem.Str("code"));
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
    }
}
