using Kefu.Grains.Routing;

namespace Kefu.Grains.Tests.Routing;

/// <summary><see cref="RoutePlanner"/>: a dry run shows matched routes, planned calls and rendered replies, executing nothing.</summary>
public sealed class RoutePlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_seed_plans_the_erp_call_and_the_reply()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk(RuleSetCompilerTests.Seed);

        var plan = RoutePlanner.Plan(ruleSet, RoutingEvent.Synthetic("t", "order_status", """{"order_id":"12345"}""", null, null, Now), RoutingFacts.At(Now));

        Assert.Equal("order_status", plan.EventName);
        var route = Assert.Single(plan.Routes);
        Assert.Equal(("route-1", 0, 3000L), (route.RouteId, route.Priority, route.BudgetMs));
        var call = route.Steps[0];
        Assert.Equal(
            (0, "call", "ERP::updateOrder", "POST", "http://erp.internal:9100/orders/12345/sync", """{"order_id":"12345"}""", (string?)null, 3, (long?)3000),
            (call.Index, call.Action, call.Target, call.Method, call.Url, call.BodyJson, call.Text, call.Attempts, call.TimeoutMs));
        Assert.Empty(route.Steps[0].Unresolved);
        var reply = route.Steps[1];
        Assert.Equal(("reply_template", "您的订单#12345已更新", 1), (reply.Action, reply.Text, reply.Attempts));
        Assert.Empty(reply.Unresolved);
    }

    [Fact]
    public void Variables_known_only_after_a_call_are_listed_and_the_event_deadline_cuts_the_budget()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk("""
            defaults: { step_timeout: 2s }
            connectors:
              ERP:
                baseUrl: "http://erp.local/api/"
                timeout: 1500ms
                operations:
                  find: { method: GET, path: "/orders/{order_id}" }
                  ship: { method: POST, path: "/shipments/{shipment_id}" }
            routes:
              - id: r
                on: order_status
                actions:
                  - call: ERP::find
                  - call: ERP::ship
                    retry: { retries: 1 }
                  - reply_template: "订单 {order_id}: {status}"
                  - emit: { type: custom.shipped, data: { order: "{order_id}", eta: "{eta}" } }
                  - tag: [shipped]
            """);
        var e = RoutingEvent.Synthetic("t", "order_status", """{"order_id":"A 1"}""", null, null, Now) with { Deadline = Now.AddMilliseconds(1200) };

        var route = Assert.Single(RoutePlanner.Plan(ruleSet, e, RoutingFacts.At(Now)).Routes);

        Assert.Equal(1200, route.BudgetMs);
        Assert.Equal(("http://erp.local/api/orders/A%201", 1, 1200L), (route.Steps[0].Url, route.Steps[0].Attempts, route.Steps[0].TimeoutMs));
        Assert.Null(route.Steps[1].Url);
        Assert.Equal(["shipment_id"], route.Steps[1].Unresolved);
        Assert.Equal(2, route.Steps[1].Attempts);
        Assert.Null(route.Steps[2].Text);
        Assert.Equal(["status"], route.Steps[2].Unresolved);
        Assert.Equal("""{"order":"A 1","eta":null}""", route.Steps[3].BodyJson);
        Assert.Equal(["eta"], route.Steps[3].Unresolved);
        Assert.Equal(("tag", "shipped"), (route.Steps[4].Action, route.Steps[4].Target));
    }

    [Fact]
    public void An_event_no_route_hears_plans_nothing()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk(RuleSetCompilerTests.Seed);

        Assert.Empty(RoutePlanner.Plan(ruleSet, RoutingEvent.Synthetic("t", "refund", "{}", null, null, Now), RoutingFacts.At(Now)).Routes);
    }
}
