using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>
/// One test's own corner of the tenant: a team of fresh agents and an inbox served only by that team, so assignment
/// in one test never depends on agents of another.
/// </summary>
public sealed class Desk(GatewayFixture gateway, HttpClient admin, string suffix)
{
    public string Team { get; } = "team-" + suffix;

    public string Inbox { get; } = "inbox-" + suffix;

    public HttpClient Admin { get; } = admin;

    public List<(string Id, string Token)> Agents { get; } = [];

    public static async Task<Desk> CreateAsync(GatewayFixture gateway, int agents, int capacity, object? inboxSettings = null, string? policy = null)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var admin = gateway.Http(await gateway.LoginAsync());
        var desk = new Desk(gateway, admin, suffix);
        for (var i = 0; i < agents; i++)
        {
            desk.Agents.Add(await desk.CreateAgentAsync($"a{i}-{suffix}", capacity));
        }

        await Ok(await admin.PutAsJsonAsync($"/api/v1/teams/{desk.Team}", new { name = "Team " + suffix, agentIds = desk.Agents.Select(a => a.Id).ToArray() }));
        await Ok(await admin.PutAsJsonAsync($"/api/v1/inboxes/{desk.Inbox}", inboxSettings ?? new
        {
            name = "Inbox " + suffix,
            assignmentPolicy = policy ?? "least_busy",
            teams = new[] { desk.Team },
        }));
        return desk;
    }

    public async Task<(string Id, string Token)> CreateAgentAsync(string id, int capacity)
    {
        var response = await Admin.PostAsJsonAsync("/api/v1/agents", new { username = id, password = "agent-password-1", capacity });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (id, await gateway.LoginAsync(id, "agent-password-1"));
    }

    /// <summary>A visitor of this desk's inbox, connected.</summary>
    public async Task<(string Id, string Token, ChatClient Socket)> VisitorAsync(string name = "Visitor")
    {
        using var http = gateway.Http();
        var response = await http.PostAsJsonAsync("/api/v1/visitors", new { name, inbox = Inbox });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var token = body.GetProperty("token").GetString()!;
        return (body.GetProperty("visitorId").GetString()!, token, await gateway.ConnectAsync(token));
    }

    public async Task<JsonElement> ConversationAsync(string conversationId, string? token = null)
    {
        using var http = token is null ? null : gateway.Http(token);
        var response = await (http ?? Admin).GetAsync($"/api/v1/conversations/{conversationId}");
        return await Ok(response);
    }

    /// <summary>Polls the conversation until <paramref name="condition"/> holds (state changes travel by one-way calls).</summary>
    public async Task<JsonElement> WaitForAsync(string conversationId, Func<JsonElement, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement last;
        do
        {
            last = await ConversationAsync(conversationId);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"Conversation never became {what}: {last}");
        return last;
    }

    public static async Task<JsonElement> Ok(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<string> ProblemCode(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("code").GetString()!;
    }
}
