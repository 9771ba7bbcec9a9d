using System.Diagnostics;
using System.Text.RegularExpressions;
using Kefu.Contracts.Events;
using Kefu.Grains.Routing;

namespace Kefu.Grains.Tests.Routing;

/// <summary>
/// <see cref="RouteMatcher"/>: every condition operator, intents over visitor messages (Chinese, full-width and case
/// insensitive), named-group extraction, NonBacktracking regexes, and which routes run (priority, first-match, all,
/// continue).
/// </summary>
public sealed class RouteMatcherTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    private const string OrderData = """
        {"order_id": 12345, "status": "paid", "amount": "250.5", "tags": ["vip", "new"],
         "customer": {"name": "Ａｌｉｃｅ Wang", "level": 3}, "note": "请尽快处理 ＵＲＧＥＮＴ 订单", "flag": true, "nothing": null,
         "items": [{"sku": "A-1"}]}
        """;

    [Theory]
    [InlineData("eq: { status: paid }", true)]
    [InlineData("eq: { status: Paid }", false)]
    [InlineData("eq: { order_id: 12345 }", true)]
    [InlineData("eq: { order_id: 12346 }", false)]
    [InlineData("eq: { customer.level: 3 }", true)]
    [InlineData("eq: { items.0.sku: A-1 }", true)]
    [InlineData("eq: { flag: true }", true)]
    [InlineData("eq: { flag: false }", false)]
    [InlineData("eq: { nothing: null }", true)]
    [InlineData("eq: { missing: null }", true)]
    [InlineData("eq: { status: paid, flag: true }", true)]
    [InlineData("eq: { status: paid, flag: false }", false)]
    [InlineData("eq: { $name: order_status }", true)]
    [InlineData("eq: { $conversation: c-1 }", true)]
    [InlineData("ne: { status: paid }", false)]
    [InlineData("ne: { status: open }", true)]
    [InlineData("in: { status: [open, paid] }", true)]
    [InlineData("in: { status: [open, pending] }", false)]
    [InlineData("in: { order_id: [1, 12345] }", true)]
    [InlineData("contains: { note: urgent }", true)]
    [InlineData("contains: { note: 尽快 }", true)]
    [InlineData("contains: { note: slowly }", false)]
    [InlineData("contains: { tags: vip }", true)]
    [InlineData("contains: { tags: vi }", false)]
    [InlineData("contains: { customer.name: ALICE }", true)]
    [InlineData("keywords: { note: [slow, 尽快] }", true)]
    [InlineData("keywords: { note: [slow, later] }", false)]
    [InlineData("keywords: { note: ＵＲＧＥＮＴ }", true)]
    [InlineData("regex: { customer.name: '^alice\\s+wang$' }", true)]
    [InlineData("regex: { note: '订单$' }", true)]
    [InlineData("regex: { note: '^订单' }", false)]
    [InlineData("exists: [order_id, customer.name]", true)]
    [InlineData("exists: order_id", true)]
    [InlineData("exists: missing", false)]
    [InlineData("exists: nothing", false)]
    [InlineData("gt: { amount: 200 }", true)]
    [InlineData("gt: { amount: 300 }", false)]
    [InlineData("lt: { amount: 300 }", true)]
    [InlineData("lt: { amount: 250.5 }", false)]
    [InlineData("gt: { order_id: 12344 }", true)]
    [InlineData("gt: { status: 1 }", false)]
    [InlineData("gt: { missing: 1 }", false)]
    [InlineData("all: [ { eq: { status: paid } }, { not: { eq: { flag: false } } } ]", true)]
    [InlineData("all: [ { eq: { status: paid } }, { eq: { flag: false } } ]", false)]
    [InlineData("any: [ { eq: { status: open } }, { eq: { status: paid } } ]", true)]
    [InlineData("any: [ { eq: { status: open } }, { exists: missing } ]", false)]
    [InlineData("not: { eq: { status: paid } }", false)]
    [InlineData("not: { exists: missing }", true)]
    public void Each_operator_decides_a_match(string condition, bool expected)
    {
        var ruleSet = RuleSetCompilerTests.CompileOk($"routes:\n  - on: order_status\n    when: {{ {condition} }}\n    actions: [ {{ tag: a }} ]\n");

        var matches = RouteMatcher.Match(ruleSet, RoutingEvent.Synthetic("t", "order_status", OrderData, "c-1", null, Now), RoutingFacts.At(Now));

        Assert.Equal(expected, matches.Count == 1);
    }

    [Fact]
    public void Business_hours_ask_the_facts_about_the_events_inbox_or_a_named_one()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk("""
            routes:
              - id: open-web
                on: conversation.created
                when: { business_hours: true }
                actions: [ { tag: open } ]
              - id: open-shop
                on: conversation.created
                when: { business_hours: shop }
                continue: true
                priority: 1
                actions: [ { tag: shop } ]
            """);
        var created = RoutingEvent.Synthetic("t", EventTypes.ConversationCreated, "{}", "c-1", null, Now) with { Inbox = "web" };
        var asked = new List<(string, DateTimeOffset)>();
        var facts = new RoutingFacts(Now, (inbox, at) =>
        {
            asked.Add((inbox, at));
            return inbox == "web";
        });

        Assert.Equal(["open-web"], RouteMatcher.Match(ruleSet, created, facts).Select(m => m.Route.Id));
        Assert.Equal([("shop", Now), ("web", Now)], asked);
        Assert.Empty(RouteMatcher.Match(ruleSet, created, RoutingFacts.At(Now)));
    }

    private const string Intents = """
        intents:
          refund:
            keywords: [退款, Refund]
            regex: ['订单\s*(?<order_id>\d+)', 'ORDER\s*#?(?<order_id>\d+)']
        routes:
          - match: refund
            actions:
              - reply_template: "退款 {order_id}"
        """;

    [Theory]
    [InlineData("我要退款", true, null)]
    [InlineData("我要ＲＥＦＵＮＤ", true, null)]
    [InlineData("please refund me", true, null)]
    [InlineData("订单 １２３４５ 怎么样了", true, "12345")]
    [InlineData("where is Order #77?", true, "77")]
    [InlineData("ｏｒｄｅｒ８８", true, "88")]
    [InlineData("你好", false, null)]
    public void An_intent_matches_visitor_text_whatever_its_width_and_case(string text, bool matches, string? orderId)
    {
        var ruleSet = RuleSetCompilerTests.CompileOk(Intents);

        var result = RouteMatcher.Match(ruleSet, Visitor(text), RoutingFacts.At(Now));

        Assert.Equal(matches, result.Count == 1);
        if (orderId is not null)
        {
            Assert.Equal(orderId, result[0].Extracted["order_id"]);
        }
    }

    [Fact]
    public void With_many_intents_each_text_reaches_exactly_its_own_intent()
    {
        // Enough intents for the combined patterns to be split in chunks (RouteMatcher asks the combination first).
        var yaml = new System.Text.StringBuilder("intents:\n");
        for (var i = 0; i < 20; i++)
        {
            yaml.Append($"  i{i}: {{ regex: '^topic{i}\\s+(?<n>\\d+)$' }}\n");
        }

        yaml.Append("routes:\n");
        for (var i = 0; i < 20; i++)
        {
            yaml.Append($"  - {{ id: r{i}, match: i{i}, actions: [ {{ tag: t{i} }} ] }}\n");
        }

        var ruleSet = RuleSetCompilerTests.CompileOk(yaml.ToString());

        for (var i = 0; i < 20; i++)
        {
            var match = Assert.Single(RouteMatcher.Match(ruleSet, Visitor($"ＴＯＰＩＣ{i} {i * 7}"), RoutingFacts.At(Now)));
            Assert.Equal(($"r{i}", $"{i * 7}"), (match.Route.Id, match.Extracted["n"]));
        }

        Assert.Empty(RouteMatcher.Match(ruleSet, Visitor("topic20 1"), RoutingFacts.At(Now)));
    }

    [Fact]
    public void An_intent_hears_only_visitors()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk(Intents);

        Assert.Empty(RouteMatcher.Match(ruleSet, Visitor("我要退款") with { SenderRole = "agent" }, RoutingFacts.At(Now)));
        Assert.Empty(RouteMatcher.Match(ruleSet, Visitor("我要退款") with { SenderRole = "bot" }, RoutingFacts.At(Now)));
    }

    [Fact]
    public void Every_regex_is_NonBacktracking_and_a_hostile_pattern_evaluates_fast()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk("""
            intents:
              evil: { regex: '^(a+)+$' }
            routes:
              - match: evil
                when: { regex: { $text: '(x+x+)+y' } }
                extract: { n: { regex: '(a|aa)+$' } }
                actions: [ { tag: a } ]
            """);
        Assert.True(ruleSet.Intents["evil"].Patterns[0].Options.HasFlag(RegexOptions.NonBacktracking));
        Assert.True(ruleSet.Routes[0].Extract[0].Pattern!.Options.HasFlag(RegexOptions.NonBacktracking));
        var hostile = Visitor(new string('a', 50_000) + "!") with { };

        var watch = Stopwatch.StartNew();
        var matches = RouteMatcher.Match(ruleSet, hostile, RoutingFacts.At(Now));
        watch.Stop();

        // A backtracking engine takes longer than the universe's age here; linear time is well under a second.
        Assert.Empty(matches);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    private const string Ordered = """
        defaults: { mode: MODE }
        routes:
          - id: low
            on: x
            actions: [ { tag: a } ]
          - id: high
            priority: 5
            on: x
            continue: CONTINUE
            actions: [ { tag: a } ]
          - id: high-later
            priority: 5
            on: [x, y]
            actions: [ { tag: a } ]
          - id: never
            priority: 9
            on: x
            when: { exists: missing }
            actions: [ { tag: a } ]
        """;

    [Theory]
    [InlineData("first-match", "false", "high")]
    [InlineData("first-match", "true", "high,high-later")]
    [InlineData("all", "false", "high,high-later,low")]
    [InlineData("all", "true", "high,high-later,low")]
    public void Routes_run_by_priority_then_file_order_first_match_unless_all_or_continue(string mode, string @continue, string expected)
    {
        var ruleSet = RuleSetCompilerTests.CompileOk(Ordered.Replace("MODE", mode, StringComparison.Ordinal).Replace("CONTINUE", @continue, StringComparison.Ordinal));

        var matches = RouteMatcher.Match(ruleSet, RoutingEvent.Synthetic("t", "x", "{}", null, null, Now), RoutingFacts.At(Now));

        Assert.Equal(expected, string.Join(',', matches.Select(m => m.Route.Id)));
        Assert.Empty(RouteMatcher.Match(ruleSet, RoutingEvent.Synthetic("t", "z", "{}", null, null, Now), RoutingFacts.At(Now)));
    }

    [Fact]
    public void Extraction_takes_paths_and_regex_groups_and_a_failed_one_passes_the_route_over()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk("""
            routes:
              - id: needs-phone
                on: order_status
                extract: { phone: { path: note, regex: '1\d{10}' } }
                actions: [ { tag: a } ]
              - id: takes
                on: order_status
                when: { regex: { customer.name: '^(?<first>\w+)' } }
                extract:
                  oid: order_id
                  name: customer.name
                  sku: items.0.sku
                  word: { path: note, regex: '(?<word>[a-z]+)' }
                  digits: { path: $text, regex: '#(\d+)' }
                  named: { path: note, regex: '(?<x>处理)', group: x }
                actions: [ { tag: a } ]
            """);
        var e = RoutingEvent.Synthetic("t", "order_status", OrderData, "c-1", null, Now) with { Text = "订单＃４２" };

        var match = Assert.Single(RouteMatcher.Match(ruleSet, e, RoutingFacts.At(Now)));

        Assert.Equal("takes", match.Route.Id);
        Assert.Equal(
            new Dictionary<string, string> { ["first"] = "Alice", ["oid"] = "12345", ["name"] = "Ａｌｉｃｅ Wang", ["sku"] = "A-1", ["word"] = "URGENT", ["digits"] = "42", ["named"] = "处理" },
            match.Extracted);
    }

    private static RoutingEvent Visitor(string text) =>
        RoutingEvent.Synthetic("t", EventTypes.MessageCreated, "{}", "c-1", text, Now);
}
