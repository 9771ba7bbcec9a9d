using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Gateway.WebSockets;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>Response headers, tokens kept out of logs, the socket cap per participant.</summary>
[Collection(GuardGatewayCollection.Name)]
public sealed class HardeningTests(GuardGatewayFixture gateway)
{
    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/demo")]
    [InlineData("/widget.js")]
    [InlineData("/console/")]
    [InlineData("/console/app.js")]
    [InlineData("/api/v1/conversations")]
    [InlineData("/api/v1/no-such-route")]
    [InlineData("/ws")]
    public async Task Every_response_says_nosniff(string path)
    {
        using var http = gateway.Http();
        var response = await http.GetAsync(path);
        Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var values), $"{path} answered {(int)response.StatusCode} without X-Content-Type-Options");
        Assert.Equal(["nosniff"], values);
    }

    [Fact]
    public async Task Problem_answers_of_authenticated_routes_say_nosniff_too()
    {
        using var http = gateway.Http(await gateway.LoginAsync());
        var response = await http.GetAsync("/api/v1/conversations/not-a-ulid/messages");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
    }

    [Fact]
    public async Task The_demo_page_has_a_content_security_policy_that_forbids_framing_by_others()
    {
        using var http = gateway.Http();
        var response = await http.GetAsync("/demo");
        var policy = Directives(response);
        Assert.Equal("'self'", policy["frame-ancestors"]);
        Assert.Equal("'self'", policy["script-src"]);
        Assert.Equal("'none'", policy["object-src"]);
        Assert.Contains("default-src", policy.Keys);
    }

    [Fact]
    public async Task The_console_may_connect_only_to_its_own_origin()
    {
        using var http = gateway.Http();
        var policy = Directives(await http.GetAsync("/console/"));
        Assert.Equal("'self'", policy["connect-src"]);
        Assert.Equal("'none'", policy["frame-ancestors"]);
    }

    [Fact]
    public async Task The_token_of_a_websocket_url_never_reaches_the_logs()
    {
        var (visitorId, token) = await gateway.CreateVisitorAsync();
        await using (var client = await gateway.ConnectAsync(token))
        {
            await client.SendAsync(new { type = "ping" });
            await client.ExpectAsync("pong");
        }

        // Once the socket is gone from the registry, its request has ended and everything about it is logged. Hosting's own
        // request lines are held at Warning by the gateway (gateway/Hosting), and /ws redacts the token for whatever
        // logs the request after it: together no line may carry the token.
        var registry = gateway.Services.GetRequiredService<ConnectionRegistry>();
        await WaitUntilAsync(() => !registry.ByParticipant().SelectMany(c => c).Any(c => c.ParticipantKey.EndsWith(visitorId, StringComparison.Ordinal)));
        var leaks = gateway.Logs.Entries
            .Where(e => e.Message.Contains(token, StringComparison.Ordinal) || e.Message.Contains(Uri.EscapeDataString(token), StringComparison.Ordinal))
            .ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    [Fact]
    public async Task Sockets_beyond_the_cap_of_a_participant_are_refused_before_the_upgrade()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        var open = new List<ChatClient>();
        try
        {
            for (var i = 0; i < GuardGatewayFixture.MaxConnections; i++)
            {
                open.Add(await gateway.ConnectAsync(token));
            }

            using var refused = new ClientWebSocket();
            refused.Options.CollectHttpResponseDetails = true;
            await Assert.ThrowsAnyAsync<WebSocketException>(() => refused.ConnectAsync(new Uri($"{gateway.WebSocketUri}?access_token={token}"), CancellationToken.None));
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.HttpStatusCode);

            // Another participant is not affected, and a closed socket frees its place.
            var (_, other) = await gateway.CreateVisitorAsync();
            await using (await gateway.ConnectAsync(other))
            {
            }

            await open[0].DisposeAsync();
            open.RemoveAt(0);
            ChatClient? again = null;
            await WaitUntilAsync(async () =>
            {
                try
                {
                    again = await gateway.ConnectAsync(token);
                    return true;
                }
                catch (WebSocketException)
                {
                    return false;
                }
            });
            open.Add(again!);
            await again!.SendAsync(new { type = "ping" });
            await again.ExpectAsync("pong");
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_socket_cap_answer_is_a_problem_with_a_stable_code()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        var open = new List<ChatClient>();
        try
        {
            for (var i = 0; i < GuardGatewayFixture.MaxConnections; i++)
            {
                open.Add(await gateway.ConnectAsync(token));
            }

            // A plain GET with the upgrade headers: the refusal comes before the upgrade, as HTTP.
            using var http = gateway.Http();
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/ws?access_token={token}");
            request.Headers.Connection.Add("Upgrade");
            request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
            request.Headers.Add("Sec-WebSocket-Version", "13");
            request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
            var response = await http.SendAsync(request);
            await AuthorizationTests.AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "too_many_connections");
        }
        finally
        {
            foreach (var client in open)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static Dictionary<string, string> Directives(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var values), "no Content-Security-Policy");
        return values.Single().Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.Split(' ', 2))
            .ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : "");
    }

    internal static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}

/// <summary>Per-token limits on the authenticated REST API.</summary>
[Collection(RestLimitGatewayCollection.Name)]
public sealed class RestRateLimitTests(RestLimitGatewayFixture gateway)
{
    [Fact]
    public async Task Each_token_subject_has_its_own_request_budget()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        var (_, neighbour) = await gateway.CreateVisitorAsync();
        using var http = gateway.Http(token);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < RestLimitGatewayFixture.RestPerMinute + 3; i++)
        {
            var response = await http.GetAsync("/api/v1/conversations/01M8D3GK415W2ADS6CA5N22P15/messages");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
        }

        Assert.Equal(RestLimitGatewayFixture.RestPerMinute, statuses.Count(s => s != HttpStatusCode.TooManyRequests));
        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.NotNull(limited!.Headers.RetryAfter);
        await AuthorizationTests.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");

        // The same address with another token, and anonymous endpoints, are not affected.
        using var other = gateway.Http(neighbour);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, (await other.GetAsync("/api/v1/conversations/01M8D3GK415W2ADS6CA5N22P15/messages")).StatusCode);
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        var body = await (await anonymous.GetAsync("/readyz")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ready", body.Str("status"));
    }
}
