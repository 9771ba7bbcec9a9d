using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>
/// What the server writes to a visitor is in the visitor's language (issue #18): the away message of a left message,
/// and the leave-a-message form's refusals (shown under the form by the widget), while the problem's code stays the same.
/// </summary>
[Collection(DeskGatewayCollection.Name)]
public sealed class VisitorLanguageTests(DeskGatewayFixture gateway)
{
    [Theory]
    [InlineData("zh-CN", "请填写有效的邮箱地址。", "我们暂时不在线")]
    [InlineData("en-GB", "email is not a valid address.", "We're away right now")]
    public async Task A_visitor_reads_the_forms_refusal_and_the_away_message_in_the_language_of_its_browser(
        string locale, string badEmail, string away)
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 2);
        var key = (await Desk.Ok(await desk.Admin.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.Str("inboxId") == desk.Inbox).Str("publicKey")!;
        using var anonymous = gateway.Http();

        var refused = await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages",
            new { name = "Ann", email = "not-an-address", text = "Hello", locale });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("invalid_field", problem.Str("code"));
        Assert.Equal(badEmail, problem.Str("detail"));

        var blank = await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages",
            new { name = "Ann", email = "ann@example.com", text = "  ", locale });
        Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        Assert.Equal(locale.StartsWith("zh", StringComparison.Ordinal),
            (await blank.Content.ReadFromJsonAsync<JsonElement>()).Str("detail")!.StartsWith("请填写留言内容", StringComparison.Ordinal));

        var left = await Desk.Ok(await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages",
            new { name = "Ann", email = "ann@example.com", text = "Please call me back", locale }));
        using var visitor = gateway.Http(left.Str("token"));
        var history = await Desk.Ok(await visitor.GetAsync($"/api/v1/conversations/{left.Str("conversationId")}/messages"));
        var texts = history.GetProperty("messages").EnumerateArray().Select(m => m.Str("text")).ToArray();
        Assert.Contains(texts, t => t!.StartsWith(away, StringComparison.Ordinal));
    }
}
