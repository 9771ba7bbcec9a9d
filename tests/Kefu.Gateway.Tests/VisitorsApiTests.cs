using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Visitors are free to create, so what one may store is bounded (issue #12, item 3); agents and the visitor itself
/// read it back; a visitor of an inbox that does not exist is refused (issue #12, item 6).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class VisitorsApiTests(GatewayFixture gateway)
{
    public static TheoryData<string, object> TooMuch => new()
    {
        // The probe's payload: 50 attributes of 1 KiB each (~125 KB kept per anonymous visitor before).
        { "invalid_attributes", new { attributes = Enumerable.Range(0, 50).ToDictionary(i => $"k{i}", _ => new string('v', 1024)) } },
        { "invalid_attributes", new { attributes = Enumerable.Range(0, 21).ToDictionary(i => $"k{i}", _ => "v") } },
        { "invalid_attributes", new { attributes = new Dictionary<string, string> { ["plan"] = new string('v', 257) } } },
        { "invalid_attributes", new { attributes = new Dictionary<string, string> { [new string('k', 65)] = "v" } } },
        { "invalid_attributes", new { attributes = new Dictionary<string, string> { [""] = "v" } } },
        { "invalid_attributes", new { attributes = new Dictionary<string, string?> { ["plan"] = null } } },
        { "invalid_attributes", new { attributes = Enumerable.Range(0, 20).ToDictionary(i => $"key-{i:00}", _ => new string('v', 250)) } }, // 5 KB in all
        { "invalid_field", new { name = new string('n', 129) } },
        { "invalid_field", new { email = new string('e', 250) + "@x.io" } },
    };

    [Theory]
    [MemberData(nameof(TooMuch))]
    public async Task Names_emails_and_attributes_beyond_the_bounds_are_refused(string code, object request)
    {
        using var http = gateway.Http();
        Assert.Equal(code, await Desk.ProblemCode(await http.PostAsJsonAsync("/api/v1/visitors", request), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Agents_read_a_visitors_profile_and_the_visitor_reads_its_own()
    {
        using var anonymous = gateway.Http();
        var attributes = Enumerable.Range(0, 20).ToDictionary(i => $"k{i}", i => new string('v', i == 0 ? 256 : 100));
        var created = await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors", new { name = " Ana ", email = "ana@example.com", attributes }));
        var visitorId = created.Str("visitorId")!;
        var visitorToken = created.Str("token")!;

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        var seen = await Desk.Ok(await agent.GetAsync($"/api/v1/visitors/{visitorId}"));
        Assert.Equal(visitorId, seen.Str("visitorId"));
        Assert.Equal("Ana", seen.Str("name"));
        Assert.Equal("ana@example.com", seen.Str("email"));
        Assert.Equal("default", seen.Str("inbox"));
        Assert.Equal(attributes, seen.GetProperty("attributes").Deserialize<Dictionary<string, string>>());
        Assert.Equal(JsonValueKind.Null, seen.GetProperty("conversationId").ValueKind);
        Assert.True(seen.GetProperty("createdAt").GetDateTime() <= DateTime.UtcNow);

        await using (var socket = await gateway.ConnectAsync(visitorToken))
        {
            var conversationId = (await socket.SendMessageAsync("hello")).Str("conversationId");
            using var visitor = gateway.Http(visitorToken);
            var me = await Desk.Ok(await visitor.GetAsync("/api/v1/visitors/me"));
            Assert.Equal(visitorId, me.Str("visitorId"));
            Assert.Equal("Ana", me.Str("name"));
            Assert.Equal(conversationId, me.Str("conversationId"));

            // Visitors read only themselves; agents have no "me" here.
            Assert.Equal("not_allowed", await Desk.ProblemCode(await visitor.GetAsync($"/api/v1/visitors/{visitorId}"), HttpStatusCode.Forbidden));
            Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.GetAsync("/api/v1/visitors/me"), HttpStatusCode.Forbidden));
        }

        Assert.Equal("not_found", await Desk.ProblemCode(await agent.GetAsync($"/api/v1/visitors/{Ulid.NewUlid()}"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await agent.GetAsync("/api/v1/visitors/not-a-ulid"), HttpStatusCode.NotFound));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/visitors/me")).StatusCode);
    }

    [Fact]
    public async Task A_visitor_of_an_inbox_that_does_not_exist_is_refused()
    {
        using var http = gateway.Http();
        Assert.Equal("not_found", await Desk.ProblemCode(await http.PostAsJsonAsync("/api/v1/visitors", new { inbox = "no-such-inbox" }), HttpStatusCode.BadRequest));
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/api/v1/visitors", new { inbox = "default" })).StatusCode);
    }
}
