using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>Queue, capacity, presence and assignment through the public API, as agents and visitors see them.</summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class AssignmentTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task First_message_waits_in_the_queue_with_an_away_message_until_an_agent_comes_online()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var (_, visitorToken, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var ack = await visitor.SendMessageAsync("hello?");
        var conversationId = ack.Str("conversationId")!;

        var queued = await desk.WaitForAsync(conversationId, c => c.Str("status") == "queued" && c.GetProperty("queuePosition").ValueKind == JsonValueKind.Number, "queued");
        Assert.Equal(1, queued.GetProperty("queuePosition").GetInt32());
        Assert.Equal(JsonValueKind.Null, queued.GetProperty("assigneeId").ValueKind);

        // Nobody serves the inbox: the visitor is told so by a system message, stored in the history.
        var history = await Desk.Ok(await gateway.Http(visitorToken).GetAsync($"/api/v1/conversations/{conversationId}/messages"));
        Assert.Contains(history.GetProperty("messages").EnumerateArray(), m => m.GetProperty("sender").Str("role") == "system");

        var (agentId, agentToken) = desk.Agents[0];
        await using var agent = await gateway.ConnectAsync(agentToken);
        var open = await desk.WaitForAsync(conversationId, c => c.Str("status") == "open", "open");
        Assert.Equal(agentId, open.Str("assigneeId"));
        Assert.Equal(JsonValueKind.Null, open.GetProperty("queuePosition").ValueKind);
        await visitor.ReceiveUntilAsync("conversation", f => f.Str("status") == "open" && f.Str("assigneeId") == agentId);
    }

    [Fact]
    public async Task Capacity_is_never_exceeded_and_a_freed_slot_goes_to_the_oldest_waiting_visitor()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 1);
        var (agentId, agentToken) = desk.Agents[0];
        await using var agent = await gateway.ConnectAsync(agentToken);
        await WaitForStatusAsync(agentToken, "online");

        var conversations = new List<string>();
        var visitors = new List<ChatClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (_, _, socket) = await desk.VisitorAsync("V" + i);
                visitors.Add(socket);
                conversations.Add((await socket.SendMessageAsync("hi " + i)).Str("conversationId")!);
                await desk.WaitForAsync(conversations[i], c => c.Str("status") is "open" or "queued", "created");
            }

            await desk.WaitForAsync(conversations[0], c => c.Str("status") == "open" && c.Str("assigneeId") == agentId, "assigned");
            await desk.WaitForAsync(conversations[1], c => c.Str("status") == "queued" && c.GetProperty("queuePosition").GetInt32() == 1, "first in line");
            await desk.WaitForAsync(conversations[2], c => c.Str("status") == "queued" && c.GetProperty("queuePosition").GetInt32() == 2, "second in line");

            // Taking one more by hand is refused: the agent is full. (The assignee has been receiving its
            // conversation's messages meanwhile: read up to the answer.)
            await agent.SendAsync(new { type = "join", conversationId = conversations[2] });
            var refused = (await agent.ReceiveUntilAsync("error"))[^1];
            Assert.Equal("at_capacity", refused.Str("code"));

            using var http = gateway.Http(agentToken);
            await Desk.Ok(await http.PostAsJsonAsync($"/api/v1/conversations/{conversations[0]}/status", new { status = "resolved" }));

            await desk.WaitForAsync(conversations[1], c => c.Str("status") == "open" && c.Str("assigneeId") == agentId, "assigned after the slot freed");
            await desk.WaitForAsync(conversations[2], c => c.Str("status") == "queued" && c.GetProperty("queuePosition").GetInt32() == 1, "moved up");
            await visitors[2].ReceiveUntilAsync("queue", f => f.GetProperty("position").GetInt32() == 1);

            var queue = await Desk.Ok(await http.GetAsync("/api/v1/queue"));
            var load = queue.GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == agentId);
            Assert.Equal([conversations[1]], load.GetProperty("openConversations").EnumerateArray().Select(e => e.GetString()!).ToArray());
            Assert.Contains(queue.GetProperty("waiting").EnumerateArray(), w => w.Str("conversationId") == conversations[2] && w.GetProperty("position").GetInt32() == 1);
        }
        finally
        {
            foreach (var socket in visitors)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Away_agents_get_nothing_and_coming_back_online_takes_the_waiting_conversation()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 3);
        var (agentId, agentToken) = desk.Agents[0];
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "status", state = "away" });
        Assert.Equal("away", (await agent.ExpectAsync("status")).Str("state"));
        await WaitForStatusAsync(agentToken, "away");

        var (_, _, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("anyone?")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "queued", "queued");

        using var http = gateway.Http(agentToken);
        await Desk.Ok(await http.PutAsJsonAsync("/api/v1/agents/me/status", new { status = "online" }));
        var open = await desk.WaitForAsync(conversationId, c => c.Str("status") == "open", "assigned");
        Assert.Equal(agentId, open.Str("assigneeId"));
    }

    [Fact]
    public async Task Offline_cannot_be_chosen_and_visitors_have_no_status()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 1);
        await using var agent = await gateway.ConnectAsync(desk.Agents[0].Token);
        await agent.SendAsync(new { type = "status", state = "offline" });
        Assert.Equal("invalid_field", (await agent.ExpectAsync("error")).Str("code"));
        await agent.SendAsync(new { type = "status" });
        Assert.Equal("missing_field", (await agent.ExpectAsync("error")).Str("code"));

        var (_, _, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        await visitor.SendAsync(new { type = "status", state = "online" });
        Assert.Equal("not_allowed", (await visitor.ExpectAsync("error")).Str("code"));
    }

    [Fact]
    public async Task A_client_that_stops_answering_pings_is_cut_off_and_its_agent_goes_offline()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 1);
        var token = desk.Agents[0].Token;
        var silent = await gateway.ConnectAsync(token);
        await WaitForStatusAsync(token, "online");

        // The client never reads again, so it answers no ping (a lost network looks the same to the server).
        await WaitForStatusAsync(token, "offline");
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            while (true)
            {
                await silent.ReceiveAsync();
            }
        });
        await silent.DisposeAsync();
    }

    [Fact]
    public async Task Several_devices_keep_an_agent_online_until_the_last_one_leaves()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 1);
        var token = desk.Agents[0].Token;
        var phone = await gateway.ConnectAsync(token);
        await using (var laptop = await gateway.ConnectAsync(token))
        {
            await WaitForStatusAsync(token, "online");
            await phone.DisposeAsync();

            // The phone's close is handled within milliseconds; a second later the laptop alone keeps the agent online.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal("online", await StatusAsync(token));
        }

        await WaitForStatusAsync(token, "offline");
    }

    private async Task<string> StatusAsync(string agentToken)
    {
        using var http = gateway.Http(agentToken);
        return (await Desk.Ok(await http.GetAsync("/api/v1/agents/me"))).Str("status")!;
    }

    private async Task WaitForStatusAsync(string agentToken, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string last;
        do
        {
            last = await StatusAsync(agentToken);
            if (last == status)
            {
                return;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"Agent status stayed '{last}', expected '{status}'.");
    }
}
