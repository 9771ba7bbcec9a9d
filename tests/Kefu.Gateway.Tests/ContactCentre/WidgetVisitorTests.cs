using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>
/// A left message makes a visitor the widget keeps (its token in the answer, name and email on the profile), and
/// <c>GET /api/v1/visitors/me</c> tells a widget whose socket was refused whether its token or its visitor is gone.
/// </summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class WidgetVisitorTests(DeskGatewayFixture gateway)
{
    [Fact]
    public async Task Leaving_a_message_answers_a_visitor_token_and_stores_name_email_and_locale_on_the_visitor()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var key = (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.Str("inboxId") == desk.Inbox).Str("publicKey")!;
        using var anonymous = gateway.Http();
        var left = await Desk.Ok(await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages",
            new { name = "Ann", email = "ann@example.com", text = "Please call me back", locale = "zh-CN" }));
        Assert.True(left.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow);

        using var visitor = gateway.Http(left.Str("token"));
        var me = await Desk.Ok(await visitor.GetAsync("/api/v1/visitors/me"));
        Assert.Equal(left.Str("visitorId"), me.Str("visitorId"));
        Assert.Equal("Ann", me.Str("name"));
        Assert.Equal("ann@example.com", me.Str("email"));
        Assert.Equal(desk.Inbox, me.Str("inbox"));
        Assert.Equal(left.Str("conversationId"), me.Str("conversationId"));
        Assert.Equal("zh-CN", me.GetProperty("attributes").Str("locale"));

        // The token reads the conversation with the visitor's message and the away message in the visitor's language.
        var history = await Desk.Ok(await visitor.GetAsync($"/api/v1/conversations/{left.Str("conversationId")}/messages"));
        var texts = history.GetProperty("messages").EnumerateArray().Select(m => m.Str("text")).ToArray();
        Assert.Equal("Please call me back", texts[0]);
        Assert.Contains(texts, t => t!.StartsWith("我们暂时不在线", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Visitors_me_is_401_for_a_bad_token_404_for_a_visitor_that_does_not_exist_and_403_for_agents()
    {
        var (visitorId, token) = await gateway.CreateVisitorAsync("Bo");
        using (var visitor = gateway.Http(token))
        {
            var me = await Desk.Ok(await visitor.GetAsync("/api/v1/visitors/me"));
            Assert.Equal(visitorId, me.Str("visitorId"));
            Assert.Equal("Bo", me.Str("name"));
            Assert.Equal(JsonValueKind.Null, me.GetProperty("conversationId").ValueKind);
        }

        using (var forged = gateway.Http(token[..^4] + "AAAA"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync("/api/v1/visitors/me")).StatusCode);
        }

        using (var anonymous = gateway.Http())
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/visitors/me")).StatusCode);
        }

        // A token the server signed for a visitor it does not know (an in-memory server restarted with a fixed key).
        using (var gone = gateway.Http(VisitorToken(Ulid.NewUlid().ToString())))
        {
            Assert.Equal("not_found", await Desk.ProblemCode(await gone.GetAsync("/api/v1/visitors/me"), HttpStatusCode.NotFound));
        }

        using var admin = gateway.Http(await gateway.LoginAsync());
        Assert.Equal("not_allowed", await Desk.ProblemCode(await admin.GetAsync("/api/v1/visitors/me"), HttpStatusCode.Forbidden));
    }

    /// <summary>A visitor token signed with the fixture's key, as the gateway signs them.</summary>
    private static string VisitorToken(string visitorId)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64UrlEncoder.Encode("""{"alg":"HS256","typ":"JWT"}""");
        var payload = Base64UrlEncoder.Encode(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["aud"] = "kefu", ["iss"] = "kefu", ["iat"] = now, ["nbf"] = now, ["exp"] = now + 3600,
            ["sub"] = visitorId, ["tenant"] = "default", ["role"] = "visitor",
        }));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes("test-signing-key-that-is-long-enough-0123456789"), Encoding.UTF8.GetBytes(header + "." + payload));
        return header + "." + payload + "." + Base64UrlEncoder.Encode(signature);
    }
}
