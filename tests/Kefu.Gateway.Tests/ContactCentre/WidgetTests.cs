using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>The widget's public endpoints (by inbox key), and what an agent sees of itself.</summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class WidgetTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task The_widget_learns_its_inbox_business_hours_and_whether_an_agent_is_online()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var key = await KeyAsync(desk);
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new
        {
            name = "Shop",
            teams = new[] { desk.Team },
            awayMessage = "Back at nine",
            greeting = "Hi there",
            preChatForm = true,
        }));

        var widget = await WidgetAsync(key);
        Assert.Equal("default", widget.Str("tenant"));
        Assert.Equal(desk.Inbox, widget.Str("inboxId"));
        Assert.Equal("Shop", widget.Str("name"));
        Assert.Equal("Back at nine", widget.Str("awayMessage"));
        Assert.Equal("Hi there", widget.Str("greeting"));
        Assert.True(widget.GetProperty("preChatForm").GetBoolean());
        Assert.True(widget.GetProperty("withinBusinessHours").GetBoolean());
        Assert.False(widget.GetProperty("agentsOnline").GetBoolean());
        Assert.False(widget.GetProperty("available").GetBoolean());

        await using var agent = await gateway.ConnectAsync(desk.Agents[0].Token);
        widget = await WaitForWidgetAsync(key, w => w.GetProperty("available").GetBoolean(), "available");
        Assert.True(widget.GetProperty("agentsOnline").GetBoolean());

        // Closed every day: an online agent does not make the inbox available.
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new
        {
            name = "Shop",
            teams = new[] { desk.Team },
            businessHours = new { timeZone = "Europe/Paris", days = Array.Empty<object>() },
        }));
        widget = await WidgetAsync(key);
        Assert.False(widget.GetProperty("withinBusinessHours").GetBoolean());
        Assert.True(widget.GetProperty("agentsOnline").GetBoolean());
        Assert.False(widget.GetProperty("available").GetBoolean());

        // Open around the clock, every day.
        var always = Enum.GetNames<DayOfWeek>().Select(d => new { day = d.ToLowerInvariant(), open = "00:00", close = "24:00" }).ToArray();
        await Desk.Ok(await desk.Admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", new
        {
            name = "Shop",
            teams = new[] { desk.Team },
            businessHours = new { timeZone = "America/New_York", days = always },
        }));
        widget = await WidgetAsync(key);
        Assert.True(widget.GetProperty("withinBusinessHours").GetBoolean());
        Assert.True(widget.GetProperty("available").GetBoolean());

        using var anonymous = gateway.Http();
        foreach (var unknown in new[] { "pk_" + new string('A', 24), "pk_short", "not-a-key" })
        {
            Assert.Equal("not_found", await Desk.ProblemCode(await anonymous.GetAsync($"/api/v1/widget/{unknown}"), HttpStatusCode.NotFound));
        }
    }

    [Fact]
    public async Task Leave_a_message_becomes_a_queued_conversation_that_the_admin_sees_and_an_agent_gets()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var key = await KeyAsync(desk);
        using var anonymous = gateway.Http();

        var response = await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages", new { name = "Ann", email = "ann@example.com", text = "Please call me back" });
        var left = await Desk.Ok(response);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var conversationId = left.Str("conversationId")!;
        Assert.True(Ulid.TryParse(left.Str("visitorId"), out _));

        var listed = await WaitForListedAsync(desk, conversationId);
        Assert.Equal("Ann", listed.Str("visitorName"));
        Assert.Equal(desk.Inbox, listed.Str("inbox"));
        Assert.Equal(left.Str("visitorId"), listed.Str("visitorId"));
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "queued", "queued");
        var history = await Desk.Ok(await desk.Admin.GetAsync($"/api/v1/conversations/{conversationId}/messages"));
        Assert.Contains(history.GetProperty("messages").EnumerateArray(), m => m.Str("text") == "Please call me back" && m.GetProperty("sender").Str("role") == "visitor");

        // The message waits for an agent of the inbox to come online.
        await using var agent = await gateway.ConnectAsync(desk.Agents[0].Token);
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "open" && c.Str("assigneeId") == desk.Agents[0].Id, "assigned");

        foreach (var bad in new object[]
        {
            new { email = "ann@example.com", text = "hi" },
            new { name = " ", email = "ann@example.com", text = "hi" },
            new { name = new string('n', 129), email = "ann@example.com", text = "hi" },
            new { name = "Ann", text = "hi" },
            new { name = "Ann", email = "not an address", text = "hi" },
            new { name = "Ann", email = "ann@", text = "hi" },
            new { name = "Ann", email = "ann@example.com" },
            new { name = "Ann", email = "ann@example.com", text = "  " },
            new { name = "Ann", email = "ann@example.com", text = new string('t', 8193) },
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages", bad), HttpStatusCode.BadRequest));
        }

        var unknown = await anonymous.PostAsJsonAsync($"/api/v1/widget/pk_{new string('z', 24)}/messages", new { name = "Ann", email = "ann@example.com", text = "hi" });
        Assert.Equal("not_found", await Desk.ProblemCode(unknown, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task A_visitor_created_with_an_inbox_key_lands_in_that_inbox()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var key = await KeyAsync(desk);
        using var anonymous = gateway.Http();

        var created = await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors", new { name = "Bo", inboxKey = key }));
        await using var visitor = await gateway.ConnectAsync(created.Str("token")!);
        var conversationId = (await visitor.SendMessageAsync("hello")).Str("conversationId")!;
        Assert.Equal(desk.Inbox, (await desk.ConversationAsync(conversationId)).Str("inbox"));

        foreach (var both in new object[] { new { inboxKey = key, tenant = "default" }, new { inboxKey = key, inbox = desk.Inbox } })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await anonymous.PostAsJsonAsync("/api/v1/visitors", both), HttpStatusCode.BadRequest));
        }

        foreach (var unknown in new[] { "pk_" + new string('q', 24), "nonsense" })
        {
            Assert.Equal("not_found", await Desk.ProblemCode(await anonymous.PostAsJsonAsync("/api/v1/visitors", new { inboxKey = unknown }), HttpStatusCode.NotFound));
        }
    }

    [Fact]
    public async Task An_agent_sees_its_own_status_capacity_load_and_unread_messages()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 3);
        var (agentId, token) = desk.Agents[0];
        using var http = gateway.Http(token);

        var me = await Desk.Ok(await http.GetAsync("/api/v1/agents/me"));
        Assert.Equal(agentId, me.Str("agentId"));
        Assert.Equal("agent", me.Str("role"));
        Assert.Equal(3, me.GetProperty("capacity").GetInt32());
        Assert.Equal("offline", me.Str("status"));
        Assert.Equal(0, me.GetProperty("openConversations").GetInt32());
        Assert.Equal(0, me.GetProperty("unread").GetInt64());

        await using var agent = await gateway.ConnectAsync(token);
        await WaitForMeAsync(http, m => m.Str("status") == "online", "online");

        var away = await Desk.Ok(await http.PutAsJsonAsync("/api/v1/agents/me/status", new { status = "away" }));
        Assert.Equal("away", away.Str("status"));
        Assert.Equal("away", (await Desk.Ok(await http.GetAsync("/api/v1/agents/me"))).Str("status"));
        await Desk.Ok(await http.PutAsJsonAsync("/api/v1/agents/me/status", new { status = "online" }));
        Assert.Equal("online", (await Desk.Ok(await http.GetAsync("/api/v1/agents/me"))).Str("status"));

        foreach (var bad in new object[] { new { status = "offline" }, new { status = "busy" }, new { } })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await http.PutAsJsonAsync("/api/v1/agents/me/status", bad), HttpStatusCode.BadRequest));
        }

        // A conversation assigned to the agent counts as open, and its messages as unread until read.
        var (_, _, visitor) = await desk.VisitorAsync();
        await using var _ = visitor;
        var conversationId = (await visitor.SendMessageAsync("one")).Str("conversationId")!;
        await desk.WaitForAsync(conversationId, c => c.Str("status") == "open" && c.Str("assigneeId") == agentId, "assigned");
        await visitor.SendMessageAsync("two", conversationId);
        me = await WaitForMeAsync(http, m => m.GetProperty("openConversations").GetInt32() == 1 && m.GetProperty("unread").GetInt64() >= 2, "loaded");
        var listed = (await Desk.Ok(await http.GetAsync("/api/v1/agents"))).GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == agentId);
        Assert.Equal("online", listed.Str("status"));
        Assert.Equal(1, listed.GetProperty("openConversations").GetInt32());
        Assert.Equal(3, listed.GetProperty("capacity").GetInt32());
    }

    private static async Task<string> KeyAsync(Desk desk) =>
        (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.Str("inboxId") == desk.Inbox).Str("publicKey")!;

    private async Task<JsonElement> WidgetAsync(string key)
    {
        using var anonymous = gateway.Http();
        return await Desk.Ok(await anonymous.GetAsync($"/api/v1/widget/{key}"));
    }

    private async Task<JsonElement> WaitForWidgetAsync(string key, Func<JsonElement, bool> condition, string what) =>
        await PollAsync(() => WidgetAsync(key), condition, "widget never became " + what);

    private static Task<JsonElement> WaitForMeAsync(HttpClient http, Func<JsonElement, bool> condition, string what) =>
        PollAsync(async () => await Desk.Ok(await http.GetAsync("/api/v1/agents/me")), condition, "agent never became " + what);

    private static Task<JsonElement> WaitForListedAsync(Desk desk, string conversationId) =>
        PollAsync(
            async () => (await Desk.Ok(await desk.Admin.GetAsync($"/api/v1/conversations?inbox={desk.Inbox}"))).GetProperty("conversations").EnumerateArray()
                .FirstOrDefault(c => c.Str("conversationId") == conversationId),
            c => c.ValueKind == JsonValueKind.Object,
            "conversation never listed");

    private static async Task<JsonElement> PollAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement last;
        do
        {
            last = await read();
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"{failure}: {last}");
        return last;
    }
}

/// <summary>Widget look-ups are anonymous, so they are limited per client address.</summary>
[Collection(StrictGatewayCollection.Name)]
public sealed class WidgetRateLimitTests(StrictGatewayFixture gateway)
{
    [Fact]
    public async Task Widget_lookups_beyond_the_limit_get_429()
    {
        using var http = gateway.Http();
        for (var i = 0; i < StrictGatewayFixture.WidgetPerMinute; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/v1/widget/pk_{new string('r', 24)}")).StatusCode);
        }

        var limited = await http.GetAsync($"/api/v1/widget/pk_{new string('r', 24)}");
        Assert.Equal("rate_limited", await Desk.ProblemCode(limited, HttpStatusCode.TooManyRequests));
        Assert.True(limited.Headers.RetryAfter is not null);
    }
}
