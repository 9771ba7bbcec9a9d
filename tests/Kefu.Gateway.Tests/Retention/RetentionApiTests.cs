using System.Net;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Retention;

/// <summary>
/// <c>GET/PUT /api/v1/retention</c> (docs/data-protection.md "Retention"): admins only; a policy is set and read back with
/// what it means (the defaults filled in); days outside 1..3650, events past the global event retention and bodies of
/// the wrong shape are refused with a stable code and leave the stored policy as it was.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class RetentionApiTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Only_admins_may_read_or_set_the_retention_policy()
    {
        var (_, agentToken) = await gateway.CreateAgentAsync();
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var agent = gateway.Http(agentToken);
        using var visitor = gateway.Http(visitorToken);
        using var anonymous = gateway.Http();
        foreach (var (client, status) in new[] { (agent, HttpStatusCode.Forbidden), (visitor, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            Assert.Equal(status, (await client.GetAsync("/api/v1/retention")).StatusCode);
            Assert.Equal(status, (await client.PutAsync("/api/v1/retention", Json("""{"messagesDays":1}"""))).StatusCode);
        }
    }

    [Fact]
    public async Task A_policy_is_set_read_back_with_its_effect_and_reset_to_the_defaults()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var set = await Desk.Ok(await admin.PutAsync("/api/v1/retention", Json("""{"messagesDays":365,"attachmentsDays":null,"eventsDays":7}""")));
        Assert.Equal(365, set.GetProperty("messagesDays").GetInt32());
        Assert.Equal(JsonValueKind.Null, set.GetProperty("attachmentsDays").ValueKind);
        Assert.Equal(7, set.GetProperty("eventsDays").GetInt32());
        Assert.Equal("admin", set.GetProperty("updatedBy").GetString());

        var read = await Desk.Ok(await admin.GetAsync("/api/v1/retention"));
        var effective = read.GetProperty("effective");
        Assert.Equal((365, 90, 7), (effective.GetProperty("messagesDays").GetInt32(), effective.GetProperty("attachmentsDays").GetInt32(), effective.GetProperty("eventsDays").GetInt32()));
        var limits = read.GetProperty("limits");
        Assert.Equal((1, 3650, 30), (limits.GetProperty("minDays").GetInt32(), limits.GetProperty("maxDays").GetInt32(), limits.GetProperty("maxEventsDays").GetInt32()));

        // An empty object is the default policy: messages forever, the global defaults for the rest.
        var reset = await Desk.Ok(await admin.PutAsync("/api/v1/retention", Json("{}")));
        Assert.Equal(JsonValueKind.Null, reset.GetProperty("messagesDays").ValueKind);
        Assert.Equal(JsonValueKind.Null, reset.GetProperty("effective").GetProperty("messagesDays").ValueKind);
        Assert.Equal(30, reset.GetProperty("effective").GetProperty("eventsDays").GetInt32());
    }

    [Theory]
    [InlineData("""{"messagesDays":0}""", "invalid_field")]
    [InlineData("""{"attachmentsDays":3651}""", "invalid_field")]
    [InlineData("""{"eventsDays":31}""", "invalid_field")]
    [InlineData("""{"messagesDays":"30"}""", "invalid_field")]
    [InlineData("""{"messagesDays":1.5}""", "invalid_field")]
    [InlineData("""{"keepForever":true}""", "invalid_field")]
    [InlineData("""[1,2]""", "invalid_json")]
    [InlineData("""{"messagesDays":""", "invalid_json")]
    public async Task Bad_policies_are_refused_and_the_stored_one_stays(string body, string code)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        await Desk.Ok(await admin.PutAsync("/api/v1/retention", Json("""{"attachmentsDays":45}""")));

        Assert.Equal(code, await Desk.ProblemCode(await admin.PutAsync("/api/v1/retention", Json(body)), HttpStatusCode.BadRequest));

        var read = await Desk.Ok(await admin.GetAsync("/api/v1/retention"));
        Assert.Equal(45, read.GetProperty("attachmentsDays").GetInt32());
        await Desk.Ok(await admin.PutAsync("/api/v1/retention", Json("{}")));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
