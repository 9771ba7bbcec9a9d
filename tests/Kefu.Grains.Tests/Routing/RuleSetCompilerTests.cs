using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Routing;

namespace Kefu.Grains.Tests.Routing;

/// <summary>
/// <see cref="RuleSetCompiler"/>: the seed's file loads unchanged; everything else the language allows compiles to the
/// model; and every mistake is a problem with the line and column of the offending node (1-based).
/// </summary>
public sealed class RuleSetCompilerTests
{
    /// <summary>../shared/INTEGRATION.md §6, exactly (routes block, then the connectors block it names).</summary>
    public const string Seed = """
        routes:
          - match: "order_status"
            actions:
              - call: "ERP::updateOrder"
              - reply_template: "您的订单#{order_id}已更新"
            timeout: 3s
            retry: 2
        connectors:
          ERP:
            kind: http
            baseUrl: "http://erp.internal:9100"
            operations:
              updateOrder: { method: POST, path: "/orders/{order_id}/sync" }
        """;

    [Fact]
    public void The_seed_compiles_to_one_route_with_a_call_and_a_reply()
    {
        var ruleSet = CompileOk(Seed);

        var route = Assert.Single(ruleSet.Routes);
        Assert.Equal("route-1", route.Id);
        Assert.Equal(["order_status"], route.On);
        Assert.Null(route.When);
        Assert.Equal(TimeSpan.FromSeconds(3), route.Timeout);
        Assert.Equal(2, route.Retry!.Retries);
        var call = Assert.IsType<CallStep>(route.Actions[0]);
        Assert.Equal(("ERP", "updateOrder", "ERP::updateOrder", 0), (call.Connector, call.Operation, call.Target, call.Index));
        var reply = Assert.IsType<ReplyTemplateStep>(route.Actions[1]);
        Assert.Equal("您的订单#{order_id}已更新", reply.Template.Source);
        Assert.Equal(["order_id"], reply.Template.Variables);
        var connector = ruleSet.Connectors["ERP"];
        Assert.Equal(new Uri("http://erp.internal:9100"), connector.BaseUrl);
        Assert.Equal("POST", connector.Operations["updateOrder"].Method);
        Assert.Equal(["order_status"], ruleSet.ListenedNames);
        Assert.Equal(RuleSetCompiler.HashOf(Seed), ruleSet.Hash);
        Assert.Equal(64, ruleSet.Hash.Length);
        Assert.Equal(RoutingDefaults.Standard, ruleSet.Defaults);
    }

    [Fact]
    public void The_repository_file_is_the_seed_with_a_local_connector()
    {
        var ruleSet = CompileOk(File.ReadAllText(RepositoryFiles.Path("config/routing.yaml")));

        var route = Assert.Single(ruleSet.Routes);
        Assert.Equal(["order_status"], route.On);
        Assert.Equal(new Uri("http://localhost:9100"), ruleSet.Connectors["ERP"].BaseUrl);
    }

    [Fact]
    public void Every_part_of_the_language_compiles()
    {
        var ruleSet = CompileOk(FullExample);

        Assert.Equal(RouteMode.All, ruleSet.Defaults.Mode);
        Assert.Equal(TimeSpan.FromSeconds(8), ruleSet.Defaults.Deadline);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), ruleSet.Defaults.StepTimeout);
        Assert.Equal(new RetrySpec(1, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2)), ruleSet.Defaults.Retry);
        Assert.Equal(new ConnectorAuth("Authorization", "erp-token", "Bearer "), ruleSet.Connectors["ERP"].Auth);
        Assert.Equal(TimeSpan.FromSeconds(2), ruleSet.Connectors["ERP"].Timeout);
        Assert.Equal(["退款", "refund"], ruleSet.Intents["refund"].Keywords);

        // Priority descending, then file order.
        Assert.Equal(["refund-vip", "refund", "welcome", "order-status", "closed"], ruleSet.Routes.Select(r => r.Id));
        var refund = ruleSet.Routes[1];
        Assert.Equal([EventTypes.MessageCreated], refund.On);
        Assert.True(refund.Continue);
        Assert.Equal("conversation", refund.OncePer);
        Assert.Equal(TimeSpan.FromMinutes(10), refund.Cooldown);
        var steps = refund.Actions;
        Assert.Equal(["call", "reply_template", "assign", "tag", "priority", "status", "emit"], steps.Select(s => s.Action));
        Assert.Equal(TimeSpan.FromMilliseconds(800), steps[0].Timeout);
        Assert.Equal(3, steps[0].Retry!.Retries);
        Assert.Equal(OnError.Continue, steps[0].OnError);
        Assert.Equal("team:billing", steps[2].Target);
        Assert.Equal("refund,billing", steps[3].Target);
        Assert.Equal("custom.refund_requested", steps[6].Target);
        Assert.Equal(["order_id"], ((EmitStep)steps[6]).Data["order"].Variables);
        Assert.Equal("agent:a-7", ruleSet.Routes[0].Actions[0].Target);
        string[] listened = ["order_status", EventTypes.MessageCreated, EventTypes.ConversationStatusChanged, EventTypes.ConversationCreated];
        Assert.Equal(listened.Order(StringComparer.Ordinal), ruleSet.ListenedNames.Order(StringComparer.Ordinal));
    }

    public const string FullExample = """
        version: 1
        defaults:
          mode: all
          deadline: 8s
          step_timeout: 1500ms
          retry: { retries: 1, base_delay: 100ms, max_delay: 2s }
        connectors:
          ERP:
            kind: http
            baseUrl: "http://localhost:9100/api"
            auth: { header: Authorization, secret: erp-token, prefix: "Bearer " }
            timeout: 2s
            operations:
              updateOrder: { method: POST, path: "/orders/{order_id}/sync" }
              refund: { method: post, path: "/refunds/{order_id}" }
        intents:
          refund:
            keywords: [退款, Refund]
            regex: '订单\s*(?<order_id>\d+)'
        routes:
          - id: welcome
            on: conversation.created
            actions:
              - reply_template: "Hello! 您好"
          - id: refund
            priority: 10
            match: refund
            when: { not: { business_hours: true } }
            actions:
              - call: ERP::refund
                timeout: 800ms
                retry: 3
                on_error: continue
              - reply_template: "退款已受理 #{order_id}"
              - assign: billing
              - tag: [refund, billing]
              - priority: high
              - status: pending
              - emit: { type: custom.refund_requested, data: { order: "{order_id}" } }
            continue: true
            once_per: conversation
            cooldown: 10m
          - id: refund-vip
            priority: 20
            on: [message.created]
            when:
              all:
                - intent: refund
                - any:
                    - eq: { message.sender.role: visitor }
                    - in: { $sender: [visitor, bot] }
                - ne: { vip: false }
                - contains: { tags: vip }
                - keywords: { $text: [急, urgent] }
                - regex: { $text: '(?<amount>\d+)元' }
                - exists: [message.text]
                - gt: { amount: 100 }
                - lt: { amount: 10000 }
            extract:
              customer: contact.name
              amount: { path: $text, regex: '(?<n>\d+)元', group: n }
            actions:
              - assign: { agent: a-7 }
          - id: order-status
            match: order_status
            actions:
              - call: ERP::updateOrder
          - id: closed
            on: [conversation.status_changed]
            when: { eq: { status: resolved } }
            actions:
              - emit: custom.closed
        """;

    [Theory]
    [InlineData("routes:\n  - match: x\n    actoins:\n      - tag: a\n", 3, 5, "unknown key 'actoins' in route 1 (did you mean 'actions'?)")]
    [InlineData("routes: []\nconectors: {}\n", 2, 1, "unknown key 'conectors' in the ruleset (did you mean 'connectors'?)")]
    [InlineData("routes:\n  - match: x\n    actions:\n      - tag: a\n        retry_count: 2\n", 5, 9, "unknown key 'retry_count' in action")]
    [InlineData("routes:\n  - on: x\n    when: { eq: { a: 1 }, equals: { b: 2 } }\n    actions: [ { tag: a } ]\n", 3, 27, "unknown condition 'equals'")]
    [InlineData("routes:\n  - on: x\n    timeout: 3\n    actions: [ { tag: a } ]\n", 3, 14, "`timeout` must be a duration like 250ms, 3s, 2m or 1h, not '3'")]
    [InlineData("routes:\n  - on: x\n    retry: many\n    actions: [ { tag: a } ]\n", 3, 12, "`retry` must be a whole number, not 'many'")]
    [InlineData("routes:\n  - on: x\n    continue: yes\n    actions: [ { tag: a } ]\n", 3, 15, "`continue` must be true or false")]
    [InlineData("routes:\n  - on: x\n    priority: [1]\n    actions: [ { tag: a } ]\n", 3, 15, "`priority` must be a whole number, not a list")]
    [InlineData("routes:\n  match: x\n", 2, 3, "`routes` must be a list")]
    [InlineData("routes:\n  - on: x\n    actions:\n      - call: \"CRM::find\"\n", 4, 15, "unknown connector 'CRM': declare it under `connectors:`")]
    [InlineData("connectors:\n  ERP: { baseUrl: \"http://e\", operations: { a: { method: GET, path: /a } } }\nroutes:\n  - on: x\n    actions:\n      - call: ERP::b\n", 6, 15, "connector 'ERP' has no operation 'b' (it has: a)")]
    [InlineData("routes:\n  - on: x\n    when: { intent: refund }\n    actions: [ { tag: a } ]\n", 3, 21, "unknown intent 'refund'")]
    [InlineData("routes:\n  - on: x\n    when: { regex: { $text: '(a' } }\n    actions: [ { tag: a } ]\n", 3, 29, "invalid regex")]
    [InlineData("routes:\n  - on: x\n    when: { regex: '(a)\\1' }\n    actions: [ { tag: a } ]\n", 3, 20, "regex not supported")]
    [InlineData("routes:\n  - on: x\n    when: { regex: '(?=a)b' }\n    actions: [ { tag: a } ]\n", 3, 20, "regex not supported")]
    [InlineData("routes:\n  - on: x\n    actions:\n      - reply_template: \"订单 {order_id\"\n", 4, 25, "invalid template: unclosed '{'")]
    [InlineData("routes:\n  - on: message.craeted\n    actions: [ { tag: a } ]\n", 2, 9, "unknown event type 'message.craeted'")]
    [InlineData("routes:\n  - on: x\n    match: y\n    actions: [ { tag: a } ]\n", 3, 12, "either `on` or `match`")]
    [InlineData("routes:\n  - actions: [ { tag: a } ]\n", 2, 5, "needs `on:` (event names) or `match:`")]
    [InlineData("routes:\n  - on: x\n", 2, 5, "needs `actions:`")]
    [InlineData("routes:\n  - on: x\n    actions:\n      - tag: a\n        status: open\n", 4, 9, "one action per list item, found tag and status")]
    [InlineData("routes:\n  - on: x\n    actions: [ { status: closed } ]\n", 3, 26, "unknown status 'closed'")]
    [InlineData("routes:\n  - on: x\n    actions: [ { emit: refund } ]\n", 3, 24, "emit type 'refund' must be custom.")]
    [InlineData("routes:\n  - id: a\n    on: x\n    actions: [ { tag: a } ]\n  - id: a\n    on: y\n    actions: [ { tag: b } ]\n", 5, 5, "duplicate route id 'a' (first at line 2)")]
    [InlineData("routes:\n  - on: x\n    on: y\n    actions: [ { tag: a } ]\n", 3, 5, "invalid YAML: Duplicate key")]
    [InlineData("routes:\n  - on: x\n   actions: [ { tag: a } ]\n", 3, 4, "invalid YAML")]
    [InlineData("defaults: { mode: some }\nroutes: []\n", 1, 19, "unknown mode 'some' (expected first-match or all)")]
    [InlineData("connectors:\n  ERP:\n    baseUrl: \"http://e\"\n    auth: { header: X-Key, token: abc }\n    operations: { a: { method: GET, path: /a } }\n", 4, 28, "unknown key 'token' in auth")]
    [InlineData("connectors:\n  ERP:\n    baseUrl: \"erp.internal\"\n    operations: { a: { method: GET, path: /a } }\nroutes: []\n", 3, 14, "baseUrl 'erp.internal' is not an absolute http(s) URL")]
    [InlineData("connectors:\n  ERP:\n    baseUrl: \"http://e\"\n    operations: { a: { method: FETCH, path: /a } }\nroutes: []\n", 4, 32, "unknown method 'FETCH'")]
    [InlineData("routes:\n  - on: x\n    when: { eq: { $foo: 1 } }\n    actions: [ { tag: a } ]\n", 3, 19, "unknown event field '$foo'")]
    [InlineData("routes:\n  - on: x\n    when: { gt: { amount: lots } }\n    actions: [ { tag: a } ]\n", 3, 27, "`gt` needs a number")]
    [InlineData("routes:\n  - on: x\n    extract: { n: { regex: '(?<a>\\d+)', group: b } }\n    actions: [ { tag: a } ]\n", 3, 48, "the regex has no group 'b'")]
    [InlineData("routes:\n  - on: inbound.received\n    actions: [ { tag: a } ]\n", 2, 9, "by its own type")]
    [InlineData("routes:\n  - on: x\n    actions: [ { reply_template: \"\" } ]\n", 3, 34, "empty reply")]
    [InlineData("version: 2\nroutes: []\n", 1, 10, "`version` must be between 1 and 1")]
    [InlineData("- routes\n", 1, 1, "expected a mapping with `routes:`")]
    [InlineData("version: 1\n", 1, 1, "missing `routes:`")]
    public void A_mistake_is_a_problem_at_its_line_and_column(string yaml, int line, int column, string message)
    {
        var compilation = RuleSetCompiler.Compile(yaml);

        Assert.Null(compilation.RuleSet);
        Assert.Contains(compilation.Problems, p => p.Line == line && p.Column == column && p.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var compilation = RuleSetCompiler.Compile("routes:\n  - on: x\n    timeout: soon\n    actions:\n      - status: gone\n  - on: y\n    colour: red\n    actions: [ { tag: a } ]\n");

        Assert.Equal([(3, 14), (5, 17), (7, 5)], compilation.Problems.Select(p => (p.Line, p.Column)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n# only a comment\n")]
    public void An_empty_text_is_a_problem(string yaml)
    {
        var compilation = RuleSetCompiler.Compile(yaml);

        Assert.Null(compilation.RuleSet);
        Assert.Contains("empty", Assert.Single(compilation.Problems).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_routes_is_a_valid_ruleset_that_listens_to_nothing()
    {
        var ruleSet = CompileOk("routes: []\n");

        Assert.Empty(ruleSet.Routes);
        Assert.Empty(ruleSet.ListenedNames);
    }

    [Fact]
    public void A_match_that_is_no_intent_names_an_event()
    {
        var ruleSet = CompileOk("routes:\n  - match: conversation.created\n    actions: [ { tag: new } ]\n");

        Assert.Equal([EventTypes.ConversationCreated], ruleSet.Routes[0].On);
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("3s", 3000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    public void Durations_have_a_unit(string text, long milliseconds)
    {
        var ruleSet = CompileOk($"routes:\n  - on: x\n    timeout: {text}\n    actions: [ {{ tag: a }} ]\n");

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ruleSet.Routes[0].Timeout);
    }

    [Fact]
    public void A_route_retry_keeps_the_defaults_backoff()
    {
        var ruleSet = CompileOk("defaults: { retry: { retries: 0, base_delay: 50ms, max_delay: 1s } }\nroutes:\n  - on: x\n    retry: 2\n    actions: [ { tag: a } ]\n");

        Assert.Equal(new RetrySpec(2, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1)), ruleSet.Routes[0].Retry);
    }

    [Fact]
    public void Anchors_that_expand_to_a_huge_tree_are_refused_quickly()
    {
        // Nine levels of ten aliases each: 10^9 conditions if expanded.
        var yaml = new System.Text.StringBuilder("x0: &l0 { exists: a }\n");
        for (var i = 1; i <= 9; i++)
        {
            yaml.Append($"x{i}: &l{i} {{ all: [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}] }}\n");
        }

        yaml.Append("routes:\n  - on: x\n    when: *l9\n    actions: [ { tag: a } ]\n");
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var compilation = RuleSetCompiler.Compile(yaml.ToString());

        Assert.Null(compilation.RuleSet);
        Assert.Contains(compilation.Problems, p => p.Message.Contains("too deep or too large", StringComparison.Ordinal));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Anchors_within_limits_are_fine()
    {
        var ruleSet = CompileOk("routes:\n  - id: a\n    on: x\n    actions: &steps [ { tag: a } ]\n  - id: b\n    on: y\n    actions: *steps\n");

        Assert.Equal(2, ruleSet.Routes.Count);
    }

    internal static RuleSet CompileOk(string yaml)
    {
        var compilation = RuleSetCompiler.Compile(yaml);
        Assert.True(compilation.RuleSet is not null, string.Join("\n", compilation.Problems.Select(p => $"{p.Line}:{p.Column}: {p.Message}")));
        Assert.Empty(compilation.Problems);
        return compilation.RuleSet!;
    }
}

/// <summary>Files of the repository (the tests run from tests/…/bin/…).</summary>
internal static class RepositoryFiles
{
    public static string Path(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Orleans.sln")))
            {
                return System.IO.Path.Combine(directory.FullName, relative);
            }
        }

        throw new InvalidOperationException("No Orleans.sln above " + AppContext.BaseDirectory);
    }
}
