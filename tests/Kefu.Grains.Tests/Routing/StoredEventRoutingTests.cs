using Kefu.Contracts.Events;
using Kefu.Grains.Routing;

namespace Kefu.Grains.Tests.Routing;

/// <summary>Events as the router reads them from the log (<see cref="RoutingEvent.FromStored"/>) reach the routes the docs promise.</summary>
public sealed class StoredEventRoutingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    private static readonly RuleSet Rules = RuleSetCompilerTests.CompileOk("""
        intents:
          refund: { keywords: [退款], regex: '订单\s*[#＃]?(?<order_id>\d+)' }
        connectors:
          ERP: { baseUrl: "http://localhost:9100", operations: { updateOrder: { method: POST, path: "/orders/{order_id}/sync" } } }
        routes:
          - id: seed
            match: order_status
            actions:
              - call: ERP::updateOrder
              - reply_template: "您的订单#{order_id}已更新"
          - id: refund
            match: refund
            actions: [ { reply_template: "退款 {order_id}" } ]
          - id: resolved
            on: conversation.status_changed
            when: { eq: { to: resolved, conversation.inbox: web } }
            actions: [ { emit: custom.resolved } ]
        """);

    [Fact]
    public void An_inbound_event_is_heard_by_its_own_type_with_the_senders_data()
    {
        var e = RoutingEvent.FromStored(Stored(EventTypes.InboundReceived, null,
            """{"sourceId":"erp-1","type":"order_status","conversationId":"c-1","data":{"order_id":"12345"}}"""));

        var match = Assert.Single(RouteMatcher.Match(Rules, e, RoutingFacts.At(Now)));
        var plan = RoutePlanner.Plan(Rules, e, RoutingFacts.At(Now));

        Assert.Equal("seed", match.Route.Id);
        Assert.Equal(["order_status"], Rules.ListenedNames.Where(n => n == e.Name));
        Assert.Equal("http://localhost:9100/orders/12345/sync", plan.Routes[0].Steps[0].Url);
        Assert.Equal("您的订单#12345已更新", plan.Routes[0].Steps[1].Text);
    }

    [Fact]
    public void A_visitor_message_from_the_log_reaches_its_intent_and_an_agents_does_not()
    {
        static string Message(string role, string text) =>
            "{\"message\":{\"conversationId\":\"c-1\",\"messageId\":\"m\",\"seq\":3,\"sender\":{\"role\":\"" + role + "\",\"id\":\"x\"},\"text\":\"" + text + "\",\"ts\":\"2026-12-07T03:00:00Z\",\"content\":{\"kind\":\"text\"}}}";

        var visitor = RoutingEvent.FromStored(Stored(EventTypes.MessageCreated, "c-1", Message("visitor", "我要退款，订单＃１２３")));
        var agent = RoutingEvent.FromStored(Stored(EventTypes.MessageCreated, "c-1", Message("agent", "我要退款，订单＃１２３")));

        var match = Assert.Single(RouteMatcher.Match(Rules, visitor, RoutingFacts.At(Now)));
        Assert.Equal(("refund", "123"), (match.Route.Id, match.Extracted["order_id"]));
        Assert.Empty(RouteMatcher.Match(Rules, agent, RoutingFacts.At(Now)));
    }

    [Fact]
    public void A_status_change_is_read_through_its_envelope_data()
    {
        var e = RoutingEvent.FromStored(Stored(EventTypes.ConversationStatusChanged, "c-1",
            """{"from":"open","to":"resolved","conversation":{"id":"c-1","inbox":"web","status":"resolved"}}"""));

        Assert.Equal("resolved", Assert.Single(RouteMatcher.Match(Rules, e, RoutingFacts.At(Now))).Route.Id);
        Assert.Equal("web", e.Inbox);
    }

    private static StoredEvent Stored(string type, string? conversationId, string dataJson) =>
        new(1, Ulid.NewUlid(), type, "default", conversationId, 1, Now, Causation.Of("test"), dataJson);
}
