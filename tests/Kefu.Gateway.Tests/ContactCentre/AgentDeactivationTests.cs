using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>Issue #11 item 10 and #12 item 5: agents can be deactivated and deleted.</summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class AgentDeactivationTests(DeskGatewayFixture gateway)
{
    private const string Password = "agent-password-1";

    [Fact]
    public async Task A_deactivated_agent_cannot_log_in_loses_its_tokens_and_sockets_is_offline_and_gets_no_new_conversations()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 5);
        var (goneId, goneToken) = desk.Agents[0];
        var (stayId, stayToken) = desk.Agents[1];
        await using var gone = await gateway.ConnectAsync(goneToken);
        await using var stay = await gateway.ConnectAsync(stayToken);

        // Both keep reading, so they answer this fixture's one-second keep-alive pings.
        var goneClosed = Task.Run(gone.ReceiveCloseAsync);
        _ = Task.Run(stay.DiscardUntilClosedAsync);
        await WaitForListedAsync(desk, goneId, a => a.Str("status") == "online");
        await WaitForListedAsync(desk, stayId, a => a.Str("status") == "online");

        var patched = await Desk.Ok(await desk.Admin.PatchAsJsonAsync($"/api/v1/agents/{goneId}", new { active = false }));
        Assert.False(patched.GetProperty("active").GetBoolean());
        Assert.Equal("offline", patched.Str("status"));

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await goneClosed);
        using (var old = gateway.Http(goneToken))
        {
            Assert.Equal("unauthorized", await Desk.ProblemCode(await old.GetAsync("/api/v1/agents/me"), HttpStatusCode.Unauthorized));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await gateway.WebSocketStatusAsync(goneToken));
        Assert.Equal("invalid_credentials", await LoginCodeAsync(goneId, Password));
        var listed = await WaitForListedAsync(desk, goneId, a => a.Str("status") == "offline");
        Assert.False(listed.GetProperty("active").GetBoolean());
        Assert.True((await ListedAsync(desk, stayId)).GetProperty("active").GetBoolean());

        // Every new conversation of the desk goes to the agent who is still active.
        for (var i = 0; i < 3; i++)
        {
            var (_, _, visitor) = await desk.VisitorAsync("V" + i);
            await using var _ = visitor;
            var conversationId = (await visitor.SendMessageAsync("hello " + i)).Str("conversationId")!;
            var open = await desk.WaitForAsync(conversationId, c => c.Str("status") == "open", "assigned");
            Assert.Equal(stayId, open.Str("assigneeId"));
        }

        // Nobody can hand it a conversation either.
        var (_, _, late) = await desk.VisitorAsync("Late");
        await using (late)
        {
            var lateId = (await late.SendMessageAsync("anyone?")).Str("conversationId")!;
            await desk.WaitForAsync(lateId, c => c.Str("status") == "open", "assigned");
            var transfer = await desk.Admin.PostAsJsonAsync($"/api/v1/conversations/{lateId}/transfer", new { agentId = goneId });
            Assert.False(transfer.IsSuccessStatusCode);
        }

        // Reactivated, it signs in again.
        var back = await Desk.Ok(await desk.Admin.PatchAsJsonAsync($"/api/v1/agents/{goneId}", new { active = true }));
        Assert.True(back.GetProperty("active").GetBoolean());
        using var again = gateway.Http(await gateway.LoginAsync(goneId, Password));
        await Desk.Ok(await again.GetAsync("/api/v1/agents/me"));
    }

    [Fact]
    public async Task A_deleted_agent_disappears_from_lists_and_teams_cannot_sign_in_and_its_id_is_not_reused()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 2, capacity: 5);
        var (goneId, goneToken) = desk.Agents[0];
        await using var gone = await gateway.ConnectAsync(goneToken);
        var goneClosed = Task.Run(gone.ReceiveCloseAsync);

        using (var agent = gateway.Http(desk.Agents[1].Token))
        {
            Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.DeleteAsync($"/api/v1/agents/{goneId}"), HttpStatusCode.Forbidden));
        }

        var deleted = await desk.Admin.DeleteAsync($"/api/v1/agents/{goneId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await goneClosed);
        using (var old = gateway.Http(goneToken))
        {
            Assert.Equal("unauthorized", await Desk.ProblemCode(await old.GetAsync("/api/v1/agents/me"), HttpStatusCode.Unauthorized));
        }

        Assert.Equal("invalid_credentials", await LoginCodeAsync(goneId, Password));
        var agents = (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/agents"))).GetProperty("agents").EnumerateArray();
        Assert.DoesNotContain(agents, a => a.Str("agentId") == goneId);
        var teams = (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/teams"))).GetProperty("teams").EnumerateArray();
        var team = teams.Single(t => t.Str("teamId") == desk.Team);
        Assert.Equal([desk.Agents[1].Id], team.GetProperty("agentIds").EnumerateArray().Select(a => a.GetString()));

        var reused = await desk.Admin.PostAsJsonAsync("/api/v1/agents", new { username = goneId, password = Password });
        Assert.Equal("conflict", await Desk.ProblemCode(reused, HttpStatusCode.Conflict));
        Assert.Equal("not_found", await Desk.ProblemCode(await desk.Admin.PatchAsJsonAsync($"/api/v1/agents/{goneId}", new { active = true }), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await desk.Admin.DeleteAsync($"/api/v1/agents/{goneId}"), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task An_admin_cannot_deactivate_or_delete_itself()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var self = await admin.PatchAsJsonAsync("/api/v1/agents/admin", new { active = false });
        Assert.Equal("conflict", await Desk.ProblemCode(self, HttpStatusCode.Conflict));
        Assert.Equal("conflict", await Desk.ProblemCode(await admin.DeleteAsync("/api/v1/agents/admin"), HttpStatusCode.Conflict));
        await Desk.Ok(await admin.GetAsync("/api/v1/agents/me"));
    }

    private async Task<string> LoginCodeAsync(string username, string password)
    {
        using var http = gateway.Http();
        return await Desk.ProblemCode(await http.PostAsJsonAsync("/api/v1/auth/login", new { username, password }), HttpStatusCode.Unauthorized);
    }

    private static async Task<JsonElement> ListedAsync(Desk desk, string agentId) =>
        (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/agents"))).GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == agentId);

    private static async Task<JsonElement> WaitForListedAsync(Desk desk, string agentId, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement last;
        do
        {
            last = await ListedAsync(desk, agentId);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"Agent never reached the expected state: {last}");
        return last;
    }
}
