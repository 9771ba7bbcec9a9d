using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using static Kefu.Gateway.Tests.Routing.RoutingText;

namespace Kefu.Gateway.Tests.Routing;

/// <summary>
/// The seed's routing file working as written, from a newcomer's HTTP calls (INTEGRATION.md §6, docs/routing.md): the
/// admin PUTs it with the ERP's address, the ERP posts an order_status event for its customer, and the customer —
/// chatting in the widget as that contact — reads the bot's answer on their WebSocket, after the ERP got its call.
/// </summary>
[Collection(RoutingGatewayCollection.Name)]
public sealed class RoutingSeedEndToEndTests(RoutingGatewayFixture gateway)
{
    [Fact]
    public async Task The_seed_file_calls_the_erp_and_answers_the_customer_on_their_websocket()
    {
        await using var erp = await FakeErp.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        var text = Seed(erp.BaseUrl, "end to end " + Ulid.NewUlid());
        await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(text)));

        // The customer, signed in on the website as the ERP's user, chats in the widget.
        var userId = "u-" + Guid.NewGuid().ToString("N");
        var inboxes = await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"));
        var secret = inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == "default").Str("identitySecret")!;
        using var anonymous = gateway.Http();
        var visitor = await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors", new { name = "Ann", userId, userHash = VisitorIdentity.Hash(secret, userId) }));
        await using var customer = await gateway.ConnectAsync(visitor.Str("token")!);
        var conversationId = (await customer.SendMessageAsync("我的订单到哪了？")).Str("conversationId")!;

        var accepted = await Desk.Ok(await admin.PostAsync("/api/v1/webhook", Json(
            $$$"""{"id":"erp-{{{Ulid.NewUlid()}}}","type":"order_status","contact":{"externalId":"{{{userId}}}"},"data":{"order_id":"12345"}}""")));
        Assert.Equal(conversationId, accepted.Str("conversationId"));
        var eventId = accepted.Str("eventId")!;

        var reply = (await customer.ReceiveUntilAsync("message", f => f.Str("text") == "您的订单#12345已更新"))[^1];
        Assert.Equal(conversationId, reply.Str("conversationId"));
        Assert.Equal("bot", reply.GetProperty("sender").Str("role"));

        // The ERP was called (before the reply: it is the route's first step) with the event's data.
        var call = Assert.Single(erp.Received);
        Assert.Equal(("POST", "/orders/12345/sync"), (call.Method, call.Path));
        Assert.Equal("12345", JsonDocument.Parse(call.Body).RootElement.Str("order_id"));
        Assert.Equal($"{eventId}:route-1:0", call.Headers["Idempotency-Key"]);
        Assert.InRange(int.Parse(call.Headers["Kefu-Timeout-Ms"], System.Globalization.CultureInfo.InvariantCulture), 1, 3000);

        // And the execution is on record.
        await WaitUntilAsync(async () => (await RoutingApiTests.ExecutionsAsync(admin, "?route=route-1")).Any(e => e.Str("triggerEventId") == eventId),
            () => "the execution record");
        var execution = (await RoutingApiTests.ExecutionsAsync(admin, "?route=route-1")).First(e => e.Str("triggerEventId") == eventId);
        Assert.Equal(("succeeded", conversationId, Hash(text)), (execution.Str("outcome"), execution.Str("conversationId"), execution.Str("rulesetHash")));
        Assert.Equal(["succeeded", "succeeded"], execution.GetProperty("steps").EnumerateArray().Select(s => s.Str("outcome")));
    }
}
