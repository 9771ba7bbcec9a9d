using System.Net;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Inbound;

/// <summary>
/// <c>POST /api/v1/conversations/{id}/messages</c> (INTEGRATION.md §4): a bot's message, delivered live, deduplicated by
/// clientMsgId, and the <c>Idempotency-Key</c> filter (docs/integration.md §9).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class IntegrationMessagesTests(GatewayFixture gateway)
{
    [Fact]
    public async Task A_bot_message_is_created_and_delivered_live_to_the_visitor()
    {
        var (visitor, conversationId) = await StartConversationAsync();
        await using var _ = visitor;
        using var admin = gateway.Http(await gateway.LoginAsync());

        var response = await admin.PostAsync($"/api/v1/conversations/{conversationId}/messages",
            Json("""{"text":"Your order 12345 has shipped.","clientMsgId":"ship-12345","sender":{"name":"Order bot"}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var message = await Desk.Ok(response);
        Assert.Equal(conversationId, message.Str("conversationId"));
        Assert.Equal(2, message.Long("seq"));
        Assert.Equal("bot", message.GetProperty("sender").Str("role"));
        Assert.Equal("Order bot", message.GetProperty("sender").Str("name"));
        Assert.Equal("ship-12345", message.Str("clientMsgId"));

        var pushed = (await visitor.ReceiveUntilAsync("message", f => f.Str("messageId") == message.Str("messageId")))[^1];
        Assert.Equal("Your order 12345 has shipped.", pushed.Str("text"));
        Assert.Equal(2, pushed.Long("seq"));

        // The same clientMsgId again is the same message, not a second one.
        var again = await Desk.Ok(await admin.PostAsync($"/api/v1/conversations/{conversationId}/messages",
            Json("""{"text":"Your order 12345 has shipped.","clientMsgId":"ship-12345","sender":{"name":"Order bot"}}""")));
        Assert.Equal((message.Str("messageId"), 2L), (again.Str("messageId"), again.Long("seq")));
        var next = await Desk.Ok(await admin.PostAsync($"/api/v1/conversations/{conversationId}/messages",
            Json("""{"text":"Delivered.","clientMsgId":"deliver-12345"}""")));
        Assert.Equal(3, next.Long("seq"));
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_answer_and_refuses_another_request()
    {
        var (visitor, conversationId) = await StartConversationAsync();
        await using var _ = visitor;
        using var admin = gateway.Http(await gateway.LoginAsync());
        var key = "key-" + Ulid.NewUlid();

        async Task<HttpResponseMessage> Post(string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/conversations/{conversationId}/messages") { Content = Json(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await admin.SendAsync(request);
        }

        var first = await Post("""{"text":"One","clientMsgId":"a"}""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var firstBody = await first.Content.ReadAsStringAsync();

        var replay = await Post("""{"text":"One","clientMsgId":"a"}""");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(firstBody, await replay.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, replay.Headers.Location);

        Assert.Equal("idempotency_mismatch", await Desk.ProblemCode(await Post("""{"text":"Two","clientMsgId":"b"}"""), HttpStatusCode.UnprocessableEntity));

        // A failed request keeps nothing: its retry with the same key runs again.
        var failedKey = "key-" + Ulid.NewUlid();
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/conversations/{Ulid.NewUlid()}/messages") { Content = Json("""{"text":"x","clientMsgId":"c"}""") })
        {
            request.Headers.Add("Idempotency-Key", failedKey);
            Assert.Equal("not_found", await Desk.ProblemCode(await admin.SendAsync(request), HttpStatusCode.NotFound));
        }

        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/conversations/{conversationId}/messages") { Content = Json("""{"text":"x","clientMsgId":"c"}""") })
        {
            request.Headers.Add("Idempotency-Key", failedKey);
            Assert.Equal(HttpStatusCode.Created, (await admin.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task Bad_input_and_callers_without_the_scope_are_refused_with_a_code()
    {
        var (visitor, conversationId) = await StartConversationAsync();
        await using var _ = visitor;
        using var admin = gateway.Http(await gateway.LoginAsync());
        var path = $"/api/v1/conversations/{conversationId}/messages";
        async Task<string> Code(string body, HttpStatusCode status = HttpStatusCode.BadRequest, string? at = null) =>
            await Desk.ProblemCode(await admin.PostAsync(at ?? path, Json(body)), status);

        Assert.Equal("invalid_json", await Code("""{"text":"""));
        Assert.Equal("missing_field", await Code("""{"clientMsgId":"a"}"""));
        Assert.Equal("missing_field", await Code("""{"text":"hi"}"""));
        Assert.Equal("invalid_field", await Code($$$"""{"text":"hi","clientMsgId":"{{{new string('c', 65)}}}"}"""));
        Assert.Equal("invalid_field", await Code("""{"text":"hi","clientMsgId":"a","sender":"bot"}"""));
        Assert.Equal("text_too_long", await Code($$$"""{"text":"{{{new string('t', 65_537)}}}","clientMsgId":"a"}"""));
        Assert.Equal("payload_too_large", await Code($$$"""{"text":"{{{new string('t', 600_000)}}}","clientMsgId":"a"}""", HttpStatusCode.RequestEntityTooLarge));
        Assert.Equal("not_found", await Code("""{"text":"hi","clientMsgId":"a"}""", HttpStatusCode.NotFound, $"/api/v1/conversations/{Ulid.NewUlid()}/messages"));
        Assert.Equal("not_found", await Code("""{"text":"hi","clientMsgId":"a"}""", HttpStatusCode.NotFound, "/api/v1/conversations/nope/messages"));

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.PostAsync(path, Json("""{"text":"hi","clientMsgId":"a"}""")), HttpStatusCode.Forbidden));
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync(path, Json("""{"text":"hi","clientMsgId":"a"}"""))).StatusCode);
    }

    private async Task<(ChatClient Visitor, string ConversationId)> StartConversationAsync()
    {
        var (_, token) = await gateway.CreateVisitorAsync("Ann");
        var visitor = await gateway.ConnectAsync(token);
        var first = await visitor.SendMessageAsync("Where is my order?");
        return (visitor, first.Str("conversationId")!);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
