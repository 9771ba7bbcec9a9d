using System.Net;
using System.Net.Http.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>Who may manage endpoints, and the SSRF guard of a gateway with its default configuration (private targets refused).</summary>
[Collection(GatewayCollection.Name)]
public sealed class WebhookAccessTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Only_admins_and_keys_with_webhooks_manage_reach_the_endpoints_api()
    {
        using var anonymous = gateway.Http();
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.GetAsync("/api/v1/webhooks"), HttpStatusCode.Unauthorized));
        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/h", events = (string[])["*"] }), HttpStatusCode.Forbidden));
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var visitor = gateway.Http(visitorToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync("/api/v1/webhooks")).StatusCode);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://[fd00::1]/hook")]
    public async Task Private_loopback_and_link_local_targets_are_refused(string url)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/webhooks", new { url, events = (string[])["*"] });
        Assert.Equal("private_target", await Desk.ProblemCode(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task A_public_target_is_accepted_and_unknown_ids_are_not_found()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var created = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/kefu", events = (string[])["message.created"] }));
        var id = created.Str("id")!;
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync("/api/v1/webhooks/not-an-id"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync($"/api/v1/webhooks/{id}"), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task A_tenant_has_at_most_fifty_endpoints()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var existing = (await Desk.Ok(await admin.GetAsync("/api/v1/webhooks"))).GetProperty("webhooks").GetArrayLength();
        var created = new List<string>();
        for (var i = existing; i < 50; i++)
        {
            created.Add((await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = $"https://example.com/{i}", events = (string[])["contact.created"] }))).Str("id")!);
        }

        var refused = await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/one-more", events = (string[])["contact.created"] });
        Assert.Equal("too_many_endpoints", await Desk.ProblemCode(refused, HttpStatusCode.Conflict));
        foreach (var id in created)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        }
    }
}
