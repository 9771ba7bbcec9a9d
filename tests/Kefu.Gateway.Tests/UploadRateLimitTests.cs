using System.Net;
using System.Text;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>Uploads are limited per participant (the strict fixture allows 2 per minute), not per address.</summary>
[Collection(StrictGatewayCollection.Name)]
public sealed class UploadRateLimitTests(StrictGatewayFixture gateway)
{
    [Fact]
    public async Task A_participant_over_its_upload_budget_gets_429_and_others_are_unaffected()
    {
        var (token, conversationId) = await VisitorWithConversationAsync("Ann");
        using var http = gateway.Http(token);
        var file = Encoding.UTF8.GetBytes("order 1234: steps to reproduce");
        Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(http, conversationId, file, "text/plain", "a.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(http, conversationId, file, "text/plain", "b.txt")).StatusCode);

        var refused = await AttachmentTests.UploadAsync(http, conversationId, file, "text/plain", "c.txt");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("rate_limited", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(refused.Headers.RetryAfter is not null);

        // Another visitor from the same address has its own budget.
        var (otherToken, otherConversation) = await VisitorWithConversationAsync("Bo");
        using var other = gateway.Http(otherToken);
        Assert.Equal(HttpStatusCode.Created, (await AttachmentTests.UploadAsync(other, otherConversation, file, "text/plain", "d.txt")).StatusCode);
    }

    private async Task<(string Token, string ConversationId)> VisitorWithConversationAsync(string name)
    {
        var (_, token) = await gateway.CreateVisitorAsync(name);
        await using var socket = await gateway.ConnectAsync(token);
        return (token, (await socket.SendMessageAsync("hello")).Str("conversationId")!);
    }
}
