using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class BadInputTests(GatewayFixture gateway)
{
    [Theory]
    [InlineData("{not json", "bad_frame")]
    [InlineData("[1,2,3]", "bad_frame")]
    [InlineData("\"send\"", "bad_frame")]
    [InlineData("{\"type\":\"ping\"} trailing", "bad_frame")]
    [InlineData("{}", "missing_field")]
    [InlineData("{\"type\":\"dance\"}", "unknown_type")]
    [InlineData("{\"type\":\"send\",\"text\":\"no id\"}", "missing_field")]
    [InlineData("{\"type\":\"send\",\"clientMsgId\":\"c1\"}", "missing_field")]
    [InlineData("{\"type\":\"send\",\"clientMsgId\":\"c1\",\"text\":\"   \"}", "invalid_field")]
    [InlineData("{\"type\":\"send\",\"clientMsgId\":42,\"text\":\"x\"}", "invalid_field")]
    [InlineData("{\"type\":\"send\",\"clientMsgId\":\"c1\",\"text\":\"x\",\"conversationId\":\"nope\"}", "invalid_field")]
    [InlineData("{\"type\":\"sync\",\"afterSeq\":\"ten\"}", "invalid_field")]
    [InlineData("{\"type\":\"sync\",\"afterSeq\":-1}", "invalid_field")]
    [InlineData("{\"type\":\"typing\",\"state\":\"maybe\"}", "invalid_field")]
    [InlineData("{\"type\":\"read\"}", "missing_field")]
    public async Task Bad_frames_get_an_error_and_the_connection_stays_open(string frame, string code)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        await client.SendRawAsync(frame);
        var error = await client.ExpectAsync("error");
        Assert.Equal(code, error.Str("code"));
        Assert.False(string.IsNullOrEmpty(error.Str("message")));

        await client.SendAsync(new { type = "ping" });
        await client.ExpectAsync("pong");
    }

    [Fact]
    public async Task Agents_must_name_the_conversation()
    {
        var (_, token) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(token);
        await agent.SendAsync(new { type = "send", clientMsgId = "a1", text = "to whom?" });
        var error = await agent.ExpectAsync("error");
        Assert.Equal("missing_field", error.Str("code"));
        Assert.Equal("a1", error.Str("ref"));
    }

    [Fact]
    public async Task Text_over_the_limit_is_refused_with_its_reference_and_nothing_is_stored()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var conversationId = (await client.SendMessageAsync("first")).Str("conversationId")!;
        await client.SendAsync(new { type = "send", clientMsgId = "long-1", text = new string('x', 8 * 1024 + 1), conversationId });
        var error = await client.ExpectAsync("error");
        Assert.Equal("text_too_long", error.Str("code"));
        Assert.Equal("long-1", error.Str("ref"));

        var ok = await client.SendMessageAsync(new string('y', 8 * 1024), conversationId);
        Assert.Equal(2, ok.Long("seq"));
    }

    [Fact]
    public async Task A_frame_over_64_KiB_closes_with_message_too_big()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var huge = "{\"type\":\"send\",\"clientMsgId\":\"h\",\"text\":\"" + new string('z', 70 * 1024) + "\"}";
        await client.SendRawAsync(huge);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task A_binary_frame_on_the_json_protocol_closes_with_invalid_message_type()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        await client.SendBytesAsync([1, 2, 3], WebSocketMessageType.Binary);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await client.ReceiveCloseAsync());
    }

    [Fact]
    public async Task Bad_http_bodies_get_problem_details()
    {
        using var http = gateway.Http();
        var malformed = await http.PostAsync("/api/v1/visitors", new StringContent("{oops", Encoding.UTF8, "application/json"));
        await AuthorizationTests.AssertProblemAsync(malformed, HttpStatusCode.BadRequest, "bad_request");

        var badEmail = await http.PostAsJsonAsync("/api/v1/visitors", new { email = "not-an-address" });
        await AuthorizationTests.AssertProblemAsync(badEmail, HttpStatusCode.BadRequest, "invalid_field");

        var badInbox = await http.PostAsJsonAsync("/api/v1/visitors", new { inbox = "Not Valid!" });
        await AuthorizationTests.AssertProblemAsync(badInbox, HttpStatusCode.BadRequest, "invalid_field");

        var unknownTenant = await http.PostAsJsonAsync("/api/v1/visitors", new { tenant = "no-such-tenant" });
        await AuthorizationTests.AssertProblemAsync(unknownTenant, HttpStatusCode.NotFound, "not_found");

        var noPassword = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin" });
        await AuthorizationTests.AssertProblemAsync(noPassword, HttpStatusCode.BadRequest, "invalid_field");

        using var admin = gateway.Http(await gateway.LoginAsync());
        var weak = await admin.PostAsJsonAsync("/api/v1/agents", new { username = "weak", password = "short" });
        await AuthorizationTests.AssertProblemAsync(weak, HttpStatusCode.BadRequest, "invalid_field");

        var limit = await admin.GetAsync("/api/v1/conversations?limit=0");
        await AuthorizationTests.AssertProblemAsync(limit, HttpStatusCode.BadRequest, "invalid_field");
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        using var http = gateway.Http();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ready = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready", (await ready.Content.ReadFromJsonAsync<JsonElement>()).Str("status"));
    }
}

[Collection(StrictGatewayCollection.Name)]
public sealed class FloodTests(StrictGatewayFixture gateway)
{
    [Fact]
    public async Task A_flood_is_rate_limited_then_closed_without_losing_acked_messages_or_hurting_others()
    {
        var (_, floodToken) = await gateway.CreateVisitorAsync();
        var (_, calmToken) = await gateway.CreateVisitorAsync();
        await using var calm = await gateway.ConnectAsync(calmToken);
        await using var flooder = await gateway.ConnectAsync(floodToken);

        // Send everything first (a flood does not wait for answers), then read what came back.
        const int frames = 200;
        for (var i = 0; i < frames; i++)
        {
            await flooder.SendAsync(new { type = "send", clientMsgId = $"f{i}", text = $"flood {i}" });
        }

        var acked = new List<long>();
        var limited = 0;
        WebSocketCloseStatus? closed = null;
        try
        {
            while (true)
            {
                var frame = await flooder.ReceiveAsync();
                if (frame.Type() == "ack")
                {
                    acked.Add(frame.Long("seq"));
                }
                else if (frame.Type() == "error")
                {
                    Assert.Equal("rate_limited", frame.Str("code"));
                    limited++;
                }
            }
        }
        catch (WebSocketClosedException ex)
        {
            closed = ex.Status;
        }

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, closed);
        Assert.InRange(acked.Count, 1, 20);
        Assert.True(limited >= 50, $"expected at least 50 rate_limited errors, got {limited}");

        // Every acked message is stored, exactly once, without gaps.
        using var http = gateway.Http(floodToken);
        var reconnect = await gateway.ConnectAsync(floodToken);
        await reconnect.SendAsync(new { type = "sync", afterSeq = 0 });
        var synced = await reconnect.ReceiveUntilAsync("synced");
        Assert.Equal(acked.Order(), synced.Where(f => f.Type() == "message").Select(f => f.Long("seq")));
        await reconnect.DisposeAsync();

        // The calm neighbour never noticed.
        await calm.SendAsync(new { type = "ping" });
        await calm.ExpectAsync("pong");
        Assert.Equal(1, (await calm.SendMessageAsync("still fine")).Long("seq"));
    }

    [Fact]
    public async Task Password_guessing_is_rate_limited_per_address()
    {
        using var http = gateway.Http();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            var response = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = $"guess-{i}" });
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await AuthorizationTests.AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "rate_limited");
                Assert.True(response.Headers.RetryAfter is not null);
            }
        }

        // Five attempts a minute are allowed here (the fixture's limit); the rest are refused without a password check.
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)), statuses);
    }

    [Fact]
    public async Task Behind_a_loopback_proxy_each_forwarded_client_has_its_own_login_budget()
    {
        async Task<HttpStatusCode> LoginFromAsync(string client)
        {
            using var http = gateway.Http();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login")
            {
                Content = JsonContent.Create(new { username = "admin", password = "wrong" }),
            };
            request.Headers.Add("X-Forwarded-For", client);
            return (await http.SendAsync(request)).StatusCode;
        }

        // Header values only (documentation addresses): no traffic goes anywhere but loopback.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync("192.0.2.10"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await LoginFromAsync("192.0.2.10"));
        Assert.Equal(HttpStatusCode.Unauthorized, await LoginFromAsync("192.0.2.11"));
    }
}
