using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kefu.Gateway.Tests;

/// <summary>Issue #12 item 5: a token must not outlive its agent's demotion, password reset, logout or deactivation.</summary>
[Collection(GatewayCollection.Name)]
public sealed class TokenRevocationTests(GatewayFixture gateway)
{
    private const string Password = "agent-password-1";

    [Fact]
    public async Task A_demoted_admin_whose_password_was_reset_loses_its_old_token_on_rest_and_ws_at_once()
    {
        using var root = gateway.Http(await gateway.LoginAsync());
        var bossId = $"boss-{Guid.NewGuid():N}"[..16];
        var created = await root.PostAsJsonAsync("/api/v1/agents", new { username = bossId, password = Password, role = "admin" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var bossToken = await gateway.LoginAsync(bossId, Password);
        using var boss = gateway.Http(bossToken);
        Assert.Equal(HttpStatusCode.OK, (await boss.GetAsync("/api/v1/agents/me")).StatusCode);
        await using var socket = await gateway.ConnectAsync(bossToken);

        var demoted = await root.PatchAsJsonAsync($"/api/v1/agents/{bossId}", new { role = "agent", password = "a-new-password-42" });
        Assert.Equal(HttpStatusCode.OK, demoted.StatusCode);

        // The very next request with the old token is refused, and the backdoor admin cannot be made.
        await AuthorizationTests.AssertProblemAsync(await boss.GetAsync("/api/v1/agents/me"), HttpStatusCode.Unauthorized, "unauthorized");
        var backdoor = await boss.PostAsJsonAsync("/api/v1/agents", new { username = "backdoor", password = "backdoor-password-1", role = "admin" });
        await AuthorizationTests.AssertProblemAsync(backdoor, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(HttpStatusCode.Unauthorized, await gateway.WebSocketStatusAsync(bossToken));

        // Its open socket was closed by the server.
        Assert.NotNull(await socket.ReceiveCloseAsync());

        // With the new password it is an agent now: it cannot create an admin.
        using var again = gateway.Http(await gateway.LoginAsync(bossId, "a-new-password-42"));
        var refused = await again.PostAsJsonAsync("/api/v1/agents", new { username = "backdoor", password = "backdoor-password-1", role = "admin" });
        await AuthorizationTests.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "not_allowed");
    }

    [Fact]
    public async Task Logout_revokes_every_earlier_token_of_the_agent_and_closes_its_sockets()
    {
        var (agentId, token) = await gateway.CreateAgentAsync();
        var second = await gateway.LoginAsync(agentId, Password);
        await using var socket = await gateway.ConnectAsync(second);
        using var http = gateway.Http(token);

        var logout = await http.PostAsync("/api/v1/auth/logout", null);
        Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);

        using var other = gateway.Http(second);
        await AuthorizationTests.AssertProblemAsync(await http.GetAsync("/api/v1/agents/me"), HttpStatusCode.Unauthorized, "unauthorized");
        await AuthorizationTests.AssertProblemAsync(await other.GetAsync("/api/v1/agents/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(HttpStatusCode.Unauthorized, await gateway.WebSocketStatusAsync(second));
        Assert.NotNull(await socket.ReceiveCloseAsync());

        // A new login works again.
        using var fresh = gateway.Http(await gateway.LoginAsync(agentId, Password));
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("/api/v1/agents/me")).StatusCode);
    }

    [Fact]
    public async Task Refresh_gives_a_working_token_with_a_fresh_lifetime_and_refuses_revoked_or_expired_ones()
    {
        var (agentId, token) = await gateway.CreateAgentAsync();
        using var http = gateway.Http(token);
        var response = await http.PostAsync("/api/v1/auth/refresh", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var refreshed = body.Str("token")!;
        Assert.Equal(agentId, body.Str("agentId"));
        Assert.True(body.GetProperty("expiresAt").GetDateTime() > DateTime.UtcNow.AddHours(1));
        using (var renewed = gateway.Http(refreshed))
        {
            Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync("/api/v1/agents/me")).StatusCode);
        }

        await using (var socket = await gateway.ConnectAsync(refreshed))
        {
            Assert.Equal(WebSocketState.Open, socket.Socket.State);
        }

        // A visitor's token refreshes too.
        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync();
        using (var visitor = gateway.Http(visitorToken))
        {
            var visitorRefresh = await visitor.PostAsync("/api/v1/auth/refresh", null);
            Assert.Equal(HttpStatusCode.OK, visitorRefresh.StatusCode);
            var visitorBody = await visitorRefresh.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(visitorId, visitorBody.Str("visitorId"));
            await using var visitorSocket = await gateway.ConnectAsync(visitorBody.Str("token")!);
        }

        // Revoked: after logout, neither the old nor the refreshed token can be refreshed.
        using (var renewed = gateway.Http(refreshed))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await renewed.PostAsync("/api/v1/auth/logout", null)).StatusCode);
            await AuthorizationTests.AssertProblemAsync(await renewed.PostAsync("/api/v1/auth/refresh", null), HttpStatusCode.Unauthorized, "unauthorized");
        }

        await AuthorizationTests.AssertProblemAsync(await http.PostAsync("/api/v1/auth/refresh", null), HttpStatusCode.Unauthorized, "unauthorized");

        // Expired (signed with the right key, but an hour old).
        using var expired = gateway.Http(ExpiredToken(agentId));
        await AuthorizationTests.AssertProblemAsync(await expired.PostAsync("/api/v1/auth/refresh", null), HttpStatusCode.Unauthorized, "unauthorized");
        await AuthorizationTests.AssertProblemAsync(await gateway.Http().PostAsync("/api/v1/auth/refresh", null), HttpStatusCode.Unauthorized, "unauthorized");
    }

    private static string ExpiredToken(string agentId)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "kefu",
            Audience = "kefu",
            Subject = new ClaimsIdentity([new Claim("sub", agentId), new Claim("tenant", "default"), new Claim("role", "agent")]),
            IssuedAt = now.AddHours(-2),
            NotBefore = now.AddHours(-2),
            Expires = now.AddHours(-1),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes("test-signing-key-that-is-long-enough-0123456789")), SecurityAlgorithms.HmacSha256),
        });
    }
}
