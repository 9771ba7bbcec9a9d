using System.Net;
using System.Net.Http.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>An agent's own preferences (language, email notifications, time zone): kept per agent, validated.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AgentPreferencesTests(GatewayFixture gateway)
{
    [Fact]
    public async Task An_agent_keeps_its_own_preferences_and_starts_from_the_defaults()
    {
        var (id, _) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(await gateway.LoginAsync(id, "agent-password-1"));
        var defaults = await Desk.Ok(await agent.GetAsync("/api/v1/agents/me/preferences"));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, defaults.GetProperty("language").ValueKind);
        Assert.False(defaults.GetProperty("emailNotifications").GetBoolean());

        var saved = await Desk.Ok(await agent.PutAsJsonAsync("/api/v1/agents/me/preferences",
            new { language = "zh", email = " ann@example.com ", emailNotifications = true, timeZone = "Asia/Shanghai" }));
        Assert.Equal("ann@example.com", saved.Str("email"));
        var read = await Desk.Ok(await agent.GetAsync("/api/v1/agents/me/preferences"));
        Assert.Equal("zh", read.Str("language"));
        Assert.Equal("ann@example.com", read.Str("email"));
        Assert.True(read.GetProperty("emailNotifications").GetBoolean());
        Assert.Equal("Asia/Shanghai", read.Str("timeZone"));

        // Another agent's preferences are its own.
        using var admin = gateway.Http(await gateway.LoginAsync());
        var adminPrefs = await Desk.Ok(await admin.GetAsync("/api/v1/agents/me/preferences"));
        Assert.NotEqual("ann@example.com", adminPrefs.GetProperty("email").GetString());
    }

    [Fact]
    public async Task Bad_preferences_are_refused_and_the_old_ones_kept()
    {
        var (id, _) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(await gateway.LoginAsync(id, "agent-password-1"));
        await Desk.Ok(await agent.PutAsJsonAsync("/api/v1/agents/me/preferences", new { language = "en" }));
        foreach (var body in new object[]
        {
            new { language = "fr" },
            new { email = "not-an-address" },
            new { email = "a@b@example.com" },
            new { emailNotifications = true },
            new { timeZone = "Mars/Olympus" },
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await agent.PutAsJsonAsync("/api/v1/agents/me/preferences", body), HttpStatusCode.BadRequest));
        }

        Assert.Equal("en", (await Desk.Ok(await agent.GetAsync("/api/v1/agents/me/preferences"))).Str("language"));
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/agents/me/preferences")).StatusCode);
    }
}
