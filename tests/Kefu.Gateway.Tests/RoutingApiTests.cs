using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Gateway.Tests.Routing;
using static Kefu.Gateway.Tests.Routing.RoutingText;

namespace Kefu.Gateway.Tests;

/// <summary>
/// The routing rules API (docs/integration.md "Routing rules API", INTEGRATION.md §6): admins only; PUT sets a tenant's
/// YAML or refuses it with each problem's line and column (the last good set stays); the same text again is unchanged;
/// GET reads it back; a dry run plans without executing anything; executions are listed and filtered.
/// </summary>
[Collection(RoutingGatewayCollection.Name)]
public sealed class RoutingApiTests(RoutingGatewayFixture gateway)
{
    [Fact]
    public async Task Only_admins_may_read_set_try_or_list_routing_rules()
    {
        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        using var anonymous = gateway.Http();
        const string DryRun = """{"event":{"type":"order_status"}}""";
        foreach (var (client, status) in new[] { (agent, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
        {
            Assert.Equal(status, (await client.GetAsync("/api/v1/routing")).StatusCode);
            Assert.Equal(status, (await client.PutAsync("/api/v1/routing", Yaml("routes: []\n"))).StatusCode);
            Assert.Equal(status, (await client.PostAsync("/api/v1/routing/dry-run", Json(DryRun))).StatusCode);
            Assert.Equal(status, (await client.GetAsync("/api/v1/routing/executions")).StatusCode);
        }
    }

    [Fact]
    public async Task A_valid_ruleset_is_set_and_read_back_and_the_same_text_again_is_unchanged()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var text = Seed("http://127.0.0.1:9100", "set " + Ulid.NewUlid());
        var before = DateTimeOffset.UtcNow;

        var set = await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(text)));
        Assert.Equal(Hash(text), set.Str("hash"));
        Assert.Equal(1, set.GetProperty("routes").GetInt32());
        Assert.False(set.GetProperty("unchanged").GetBoolean());
        var version = set.Long("version");
        Assert.True(version >= 1);

        var again = await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(text, "text/yaml")));
        Assert.True(again.GetProperty("unchanged").GetBoolean());
        Assert.Equal((Hash(text), version), (again.Str("hash"), again.Long("version")));

        var current = await Desk.Ok(await admin.GetAsync("/api/v1/routing"));
        Assert.Equal(text, current.Str("text"));
        Assert.Equal(Hash(text), current.Str("hash"));
        Assert.Equal(RoutingSources.Api, current.Str("source"));
        Assert.Equal(version, current.Long("version"));
        Assert.Equal(1, current.GetProperty("routes").GetInt32());
        Assert.False(string.IsNullOrEmpty(current.Str("updatedBy")));
        Assert.InRange(current.GetProperty("updatedAt").GetDateTimeOffset(), before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));

        // A change is a new version.
        var changed = text + "\n# changed\n";
        var next = await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(changed, "text/plain; charset=utf-8")));
        Assert.Equal((Hash(changed), version + 1, false), (next.Str("hash"), next.Long("version"), next.GetProperty("unchanged").GetBoolean()));
    }

    [Fact]
    public async Task An_invalid_ruleset_is_refused_with_line_and_column_and_the_last_good_stays()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var good = Seed("http://127.0.0.1:9100", "good " + Ulid.NewUlid());
        await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(good)));

        // An unknown key: line 3, column 5 (1-based), where `colour` starts.
        const string Bad = "routes:\n  - match: \"order_status\"\n    colour: red\n    actions:\n      - reply_template: \"hi\"\n";
        var response = await admin.PutAsync("/api/v1/routing", Yaml(Bad));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("invalid_routing", problem.Str("code"));
        var error = problem.GetProperty("errors").EnumerateArray().First();
        Assert.Equal((3, 5), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetInt32()));
        Assert.Contains("colour", error.Str("message"), StringComparison.Ordinal);
        Assert.StartsWith("3:5: ", problem.Str("detail"), StringComparison.Ordinal);

        // A call to a connector the file does not declare.
        var dangling = await admin.PutAsync("/api/v1/routing", Yaml("routes:\n  - match: \"x\"\n    actions:\n      - call: \"NOPE::sync\"\n"));
        Assert.Equal("invalid_routing", await Desk.ProblemCode(dangling, HttpStatusCode.BadRequest));

        Assert.Equal(Hash(good), (await Desk.Ok(await admin.GetAsync("/api/v1/routing"))).Str("hash"));
    }

    [Fact]
    public async Task Yaml_media_types_are_accepted_others_refused_and_a_text_over_512_KiB_is_too_large()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var good = Seed("http://127.0.0.1:9100", "media " + Ulid.NewUlid());
        await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(good, "text/plain")));

        Assert.Equal("unsupported_media_type",
            await Desk.ProblemCode(await admin.PutAsync("/api/v1/routing", Json("""{"routes":[]}""")), HttpStatusCode.UnsupportedMediaType));

        var large = good + "\n#" + new string('x', RoutingLimits.MaxTextBytes) + "\n";
        Assert.Equal("payload_too_large", await Desk.ProblemCode(await admin.PutAsync("/api/v1/routing", Yaml(large)), HttpStatusCode.RequestEntityTooLarge));
        var dryRun = JsonSerializer.Serialize(new { @event = new { type = "order_status" }, rules = large });
        Assert.Equal("payload_too_large",
            await Desk.ProblemCode(await admin.PostAsync("/api/v1/routing/dry-run", Json(dryRun)), HttpStatusCode.RequestEntityTooLarge));

        var notUtf8 = new ByteArrayContent([0x72, 0x6f, 0xff, 0xfe, 0x0a]);
        notUtf8.Headers.ContentType = new("application/yaml");
        Assert.Equal("invalid_routing", await Desk.ProblemCode(await admin.PutAsync("/api/v1/routing", notUtf8), HttpStatusCode.BadRequest));

        Assert.Equal(Hash(good), (await Desk.Ok(await admin.GetAsync("/api/v1/routing"))).Str("hash"));
    }

    [Fact]
    public async Task A_dry_run_shows_matched_routes_planned_calls_and_rendered_replies_and_executes_nothing()
    {
        await using var erp = await FakeErp.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        var text = Seed(erp.BaseUrl, "dry " + Ulid.NewUlid());
        await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(text)));
        var dryOrder = "dry-" + Ulid.NewUlid();

        var plan = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/routing/dry-run",
            new { @event = new { type = "order_status", data = new { order_id = dryOrder } } }));

        Assert.Equal(Hash(text), plan.Str("hash"));
        Assert.Equal("order_status", plan.GetProperty("event").Str("name"));
        var dryEventId = plan.GetProperty("event").Str("id")!;
        var route = Assert.Single(plan.GetProperty("routes").EnumerateArray());
        Assert.Equal("route-1", route.Str("id"));
        Assert.Equal(3000, route.Long("budgetMs"));
        var steps = route.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(2, steps.Count);
        Assert.Equal(("call", "ERP::updateOrder", "POST"), (steps[0].Str("action"), steps[0].Str("target"), steps[0].Str("method")));
        Assert.Equal($"{erp.BaseUrl}/orders/{dryOrder}/sync", steps[0].Str("url"));
        Assert.Equal(dryOrder, steps[0].GetProperty("body").Str("order_id"));
        Assert.Equal(3, steps[0].GetProperty("attempts").GetInt32());
        Assert.Equal(("reply_template", $"您的订单#{dryOrder}已更新"), (steps[1].Str("action"), steps[1].Str("text")));
        Assert.Empty(steps[1].GetProperty("unresolved").EnumerateArray());

        // An event no route listens to matches nothing.
        var none = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/routing/dry-run", new { @event = new { type = "invoice_paid", data = new { } } }));
        Assert.Empty(none.GetProperty("routes").EnumerateArray());

        // Nothing ran: a real event posted after the dry run is routed (events are routed in log order), and the dry
        // run's never reached the ERP nor left an execution record.
        var realOrder = "real-" + Ulid.NewUlid();
        var accepted = await Desk.Ok(await admin.PostAsync("/api/v1/webhook",
            Json($$$"""{"id":"erp-{{{Ulid.NewUlid()}}}","type":"order_status","data":{"order_id":"{{{realOrder}}}"}}""")));
        var realEventId = accepted.Str("eventId");
        await WaitUntilAsync(async () => (await ExecutionsAsync(admin, "")).Any(e => e.Str("triggerEventId") == realEventId),
            () => "the real event's execution");
        Assert.Contains(erp.Received, r => r.Path == $"/orders/{realOrder}/sync");
        Assert.DoesNotContain(erp.Received, r => r.Path.Contains(dryOrder, StringComparison.Ordinal));
        Assert.DoesNotContain(await ExecutionsAsync(admin, "?limit=500"), e => e.Str("triggerEventId") == dryEventId);
    }

    [Fact]
    public async Task A_dry_run_tries_rules_given_in_the_request_without_setting_them_and_refuses_invalid_ones()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var current = Seed("http://127.0.0.1:9100", "current " + Ulid.NewUlid());
        await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(current)));
        const string Tried = "routes:\n  - id: vip\n    match: \"vip_order\"\n    actions:\n      - reply_template: \"Hello {name}\"\n";

        var plan = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/routing/dry-run",
            new { @event = new { type = "vip_order", data = new { name = "Ann" } }, rules = Tried }));
        Assert.Equal(Hash(Tried), plan.Str("hash"));
        var route = Assert.Single(plan.GetProperty("routes").EnumerateArray());
        Assert.Equal("vip", route.Str("id"));
        Assert.Equal("Hello Ann", Assert.Single(route.GetProperty("steps").EnumerateArray()).Str("text"));
        Assert.Equal(Hash(current), (await Desk.Ok(await admin.GetAsync("/api/v1/routing"))).Str("hash"));

        var invalid = await admin.PostAsJsonAsync("/api/v1/routing/dry-run",
            new { @event = new { type = "vip_order" }, rules = "routes:\n  - match: \"x\"\n    colour: red\n    actions: []\n" });
        var problem = JsonDocument.Parse(await invalid.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("invalid_routing", problem.Str("code"));
        Assert.Equal(3, problem.GetProperty("errors")[0].GetProperty("line").GetInt32());

        Assert.Equal("missing_field", await Desk.ProblemCode(await admin.PostAsync("/api/v1/routing/dry-run", Json("{}")), HttpStatusCode.BadRequest));
        Assert.Equal("missing_field",
            await Desk.ProblemCode(await admin.PostAsync("/api/v1/routing/dry-run", Json("""{"event":{"data":{}}}""")), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field",
            await Desk.ProblemCode(await admin.PostAsync("/api/v1/routing/dry-run", Json("""{"event":{"type":"x","data":[1]}}""")), HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task A_dry_run_of_a_visitor_message_matches_an_intent_and_shows_what_it_extracted()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        const string Rules = """
            intents:
              refund:
                keywords: [退款, refund]
                regex: '订单\s*[#＃]?(?<order_id>\d+)'
            routes:
              - id: refund
                match: refund
                actions:
                  - reply_template: "已收到订单{order_id}的退款申请"
            """;

        var plan = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/routing/dry-run",
            new { @event = new { type = "message.created", text = "订单＃4321 我要退款" }, rules = Rules }));
        Assert.Equal("message.created", plan.GetProperty("event").Str("name"));
        var route = Assert.Single(plan.GetProperty("routes").EnumerateArray());
        Assert.Equal("4321", route.GetProperty("extracted").Str("order_id"));
        Assert.Equal("已收到订单4321的退款申请", route.GetProperty("steps")[0].Str("text"));

        var other = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/routing/dry-run",
            new { @event = new { type = "message.created", text = "你好" }, rules = Rules }));
        Assert.Empty(other.GetProperty("routes").EnumerateArray());
    }

    [Fact]
    public async Task Executions_are_listed_newest_first_filtered_by_route_and_outcome_and_bad_queries_are_refused()
    {
        await using var erp = await FakeErp.StartAsync();
        using var admin = gateway.Http(await gateway.LoginAsync());
        // Port 1 on loopback refuses connections: the call fails at once (no retries), so the route fails.
        var text = $$"""
            # executions {{Ulid.NewUlid()}}
            routes:
              - id: sync
                match: "order_status"
                actions:
                  - call: "ERP::updateOrder"
              - id: broken
                match: "order_cancelled"
                actions:
                  - call: "DEAD::cancel"
            connectors:
              ERP:
                kind: http
                baseUrl: "{{erp.BaseUrl}}"
                operations:
                  updateOrder: { method: POST, path: "/orders/{order_id}/sync" }
              DEAD:
                kind: http
                baseUrl: "http://127.0.0.1:1"
                operations:
                  cancel: { method: POST, path: "/orders/{order_id}/cancel" }
            """;
        await Desk.Ok(await admin.PutAsync("/api/v1/routing", Yaml(text)));

        var synced = await PostAndWaitAsync(admin, "order_status");
        var broken = await PostAndWaitAsync(admin, "order_cancelled");

        var all = await ExecutionsAsync(admin, "?limit=500");
        Assert.Equal(broken, all[0].Str("triggerEventId"));
        var first = all[0];
        Assert.Equal(("broken", "failed", Hash(text), "order_cancelled"), (first.Str("routeId"), first.Str("outcome"), first.Str("rulesetHash"), first.Str("triggerType")));
        Assert.True(Ulid.TryParse(first.Str("id"), out _));
        var step = Assert.Single(first.GetProperty("steps").EnumerateArray());
        Assert.Equal(("call", "DEAD::cancel", "failed"), (step.Str("action"), step.Str("target"), step.Str("outcome")));
        var second = all.First(e => e.Str("triggerEventId") == synced);
        Assert.Equal(("sync", "succeeded"), (second.Str("routeId"), second.Str("outcome")));
        Assert.True(first.GetProperty("time").GetDateTimeOffset() >= second.GetProperty("time").GetDateTimeOffset());

        Assert.All(await ExecutionsAsync(admin, "?route=sync"), e => Assert.Equal("sync", e.Str("routeId")));
        var failed = await ExecutionsAsync(admin, "?outcome=failed");
        Assert.All(failed, e => Assert.Equal("failed", e.Str("outcome")));
        Assert.Contains(failed, e => e.Str("triggerEventId") == broken);
        Assert.DoesNotContain(failed, e => e.Str("triggerEventId") == synced);
        Assert.Single(await ExecutionsAsync(admin, "?limit=1"));

        foreach (var query in new[] { "?limit=0", "?limit=501", "?outcome=exploded", "?limit=many" })
        {
            var code = await Desk.ProblemCode(await admin.GetAsync("/api/v1/routing/executions" + query), HttpStatusCode.BadRequest);
            Assert.Contains(code, new[] { "invalid_field", "bad_request" });
        }
    }

    [Fact]
    public async Task The_openapi_document_describes_the_routing_endpoints_for_admins_with_a_yaml_body()
    {
        using var anonymous = gateway.Http();
        var paths = (await Desk.Ok(await anonymous.GetAsync("/openapi/v1.json"))).GetProperty("paths");
        foreach (var (path, method) in new[] { ("/api/v1/routing", "get"), ("/api/v1/routing", "put"), ("/api/v1/routing/dry-run", "post"), ("/api/v1/routing/executions", "get") })
        {
            var operation = paths.GetProperty(path).GetProperty(method);
            Assert.Equal("admin", operation.GetProperty("x-kefu-access").GetString());
            Assert.True(operation.GetProperty("responses").TryGetProperty("200", out var ok), $"{method} {path}");
            Assert.True(ok.GetProperty("content").TryGetProperty("application/json", out _), $"{method} {path}");
        }

        var put = paths.GetProperty("/api/v1/routing").GetProperty("put");
        Assert.True(put.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/yaml", out _));
        Assert.True(put.GetProperty("responses").TryGetProperty("413", out _));
        Assert.True(paths.GetProperty("/api/v1/routing/dry-run").GetProperty("post").GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
    }

    private async Task<string> PostAndWaitAsync(HttpClient admin, string type)
    {
        var accepted = await Desk.Ok(await admin.PostAsync("/api/v1/webhook",
            Json($$$"""{"id":"erp-{{{Ulid.NewUlid()}}}","type":"{{{type}}}","data":{"order_id":"{{{Ulid.NewUlid()}}}"}}""")));
        var eventId = accepted.Str("eventId")!;
        await WaitUntilAsync(async () => (await ExecutionsAsync(admin, "?limit=500")).Any(e => e.Str("triggerEventId") == eventId),
            () => $"the execution of {type} {eventId}");
        return eventId;
    }

    internal static async Task<List<JsonElement>> ExecutionsAsync(HttpClient admin, string query)
    {
        var body = await Desk.Ok(await admin.GetAsync("/api/v1/routing/executions" + query));
        return [.. body.GetProperty("executions").EnumerateArray()];
    }
}

/// <summary>Before any rules are set: nothing to read or to try, and no executions.</summary>
public sealed class RoutingApiWithoutRulesTests(EmptyRoutingGatewayFixture gateway) : IClassFixture<EmptyRoutingGatewayFixture>
{
    [Fact]
    public async Task Without_rules_get_and_dry_run_are_not_found_and_no_execution_is_listed()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync("/api/v1/routing"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(
            await admin.PostAsync("/api/v1/routing/dry-run", Json("""{"event":{"type":"order_status","data":{"order_id":"1"}}}""")), HttpStatusCode.NotFound));
        Assert.Empty(await RoutingApiTests.ExecutionsAsync(admin, string.Empty));
    }
}
