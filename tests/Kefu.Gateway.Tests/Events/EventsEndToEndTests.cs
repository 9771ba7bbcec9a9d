using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Events;

/// <summary>
/// A visitor's message reaches the events API as message.created. Needs the conversation grain to emit its events
/// (helper "grain", issue #13): on a branch without that it fails, which is why it lives apart from EventsApiTests.
/// </summary>
[Collection(EventsGatewayCollection.Name)]
public sealed class EventsEndToEndTests(EventsGatewayFixture gateway)
{
    [Fact]
    public async Task A_sent_message_is_a_message_created_event()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var head = (await Desk.Ok(await admin.GetAsync("/api/v1/events?limit=1"))).Str("next")!;
        while (true)
        {
            var page = await Desk.Ok(await admin.GetAsync($"/api/v1/events?limit=500&after={head}"));
            if (page.GetProperty("events").GetArrayLength() == 0)
            {
                break;
            }

            head = page.Str("next")!;
        }

        var (visitorId, token) = await gateway.CreateVisitorAsync("Eve");
        await using var visitor = await gateway.ConnectAsync(token);
        var ack = await visitor.SendMessageAsync("hello, events", clientMsgId: "e2e-1");
        var conversationId = ack.Str("conversationId")!;

        // The event is committed with the message: it is there as soon as the ack is.
        var events = (await Desk.Ok(await admin.GetAsync($"/api/v1/events?after={head}&types=message.created&limit=500")))
            .GetProperty("events").EnumerateArray()
            .Where(e => e.Str("conversationId") == conversationId)
            .ToList();
        var created = Assert.Single(events, e => e.GetProperty("data").GetProperty("message").Str("text") == "hello, events");
        var message = created.GetProperty("data").GetProperty("message");
        Assert.Equal(ack.Long("seq"), message.Long("seq"));
        Assert.Equal("e2e-1", message.Str("clientMsgId"));
        Assert.Equal("text", message.GetProperty("content").Str("kind"));
        Assert.Equal("visitor", created.GetProperty("causation").Str("kind"));
        Assert.Equal(visitorId, created.GetProperty("causation").Str("id"));
        Assert.True(created.Long("seq") >= 1);
        Assert.Equal(JsonValueKind.String, created.GetProperty("cursor").ValueKind);
    }
}
