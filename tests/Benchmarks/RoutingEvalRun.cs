using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Grains.Routing;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>routing-eval</c>: the cost of deciding which routes act on one event (<see cref="RouteMatcher.Match"/>) with a
/// ruleset of 100 routes (docs/performance.md, target ≤ 20 µs per event). In process, single thread, no I/O: it measures
/// the language, not the runtime. Each iteration builds a fresh <see cref="RoutingEvent"/> (as the router does per
/// event), so the text folding that is cached per event is paid every time.
/// </summary>
public static class RoutingEvalRun
{
    public const string Usage = """
        routing-eval mode: dotnet run -c Release --project tests/Benchmarks -- routing-eval [options]
          --routes N         routes in the ruleset (default 100; 40% intents over visitor messages, 40% inbound types, 20% conversation events)
          --iterations N     evaluations per case (default 200000, after as many for warm-up)
        """;

    public const double TargetMicroseconds = 20;

    public static int Run(string[] args)
    {
        var routes = int.Parse(BenchHost.Arg(args, "--routes") ?? "100", CultureInfo.InvariantCulture);
        var iterations = int.Parse(BenchHost.Arg(args, "--iterations") ?? "200000", CultureInfo.InvariantCulture);
        if (routes < 10 || iterations < 1000)
        {
            throw new ArgumentException("--routes at least 10, --iterations at least 1000.");
        }

        var yaml = RuleSetText(routes);
        var compile = Stopwatch.StartNew();
        var compilation = RuleSetCompiler.Compile(yaml);
        compile.Stop();
        var ruleSet = compilation.RuleSet ?? throw new InvalidOperationException(string.Join("\n", compilation.Problems.Select(p => $"{p.Line}:{p.Column}: {p.Message}")));
        var intents = routes * 2 / 5;
        var inbound = routes * 2 / 5;
        var now = DateTimeOffset.UtcNow;
        var facts = new RoutingFacts(now, (inbox, _) => inbox.Length % 2 == 0);

        var cases = new (string Name, Func<RoutingEvent> Event, int ExpectedMatches)[]
        {
            ("visitor message, full-width text, matches the last intent (every intent route evaluated)", Message(now, $"你好，我想问一下订单ＮＯ．８８１２３４５的情况，关键词{intents - 1}号", "visitor"), 1),
            ("visitor message matching the last intent's regex + named-group extraction (combined intent pattern passes, chunk gates narrow)", Message(now, $"请帮我查一下 ＴＯＰＩＣ{intents - 1} 8812345 的物流", "visitor"), 1),
            ("visitor message matching no intent (every intent route evaluated)", Message(now, "你好，请问你们几点下班？Thanks a lot!", "visitor"), 0),
            ("agent message (intent routes refuse at once)", Message(now, $"关键词{intents - 1}号", "agent"), 0),
            ("inbound order event, conditions + extraction", Inbound(now, $"type_{(inbound / 2) - 1}", """{"order_id": 12345, "status": "paid", "amount": 250, "customer": {"name": "Wang", "level": 3}, "tags": ["vip"]}"""), 1),
            ("conversation.status_changed, conditions incl. business_hours", Known(now, EventTypes.ConversationStatusChanged, """{"status": "resolved", "conversation": {"inbox": "web"}}""", "web"), 1),
            ("event no route listens to", Known(now, EventTypes.ContactUpdated, "{}", null), 0),
        };

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"routing-eval: {ruleSet.Routes.Count} routes ({intents} intent routes, {inbound} inbound-type routes, {ruleSet.Routes.Count - intents - inbound} conversation routes), compiled in {compile.Elapsed.TotalMilliseconds:F1} ms, {iterations} evaluations per case, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        report.AppendLine();
        report.AppendLine("| case | µs/event (mean) | p99 µs (per 1 000-event batch) | bytes allocated/event | matched | target ≤ 20 µs |");
        report.AppendLine("|---|---|---|---|---|---|");
        var worst = 0.0;
        foreach (var (name, create, expected) in cases)
        {
            var matched = RouteMatcher.Match(ruleSet, create(), facts).Count;
            if (matched != expected)
            {
                throw new InvalidOperationException($"case '{name}': {matched} routes matched, expected {expected}");
            }

            Measure(ruleSet, create, facts, iterations);
            var (mean, p99, bytes) = Measure(ruleSet, create, facts, iterations);
            worst = Math.Max(worst, mean);
            report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {mean:F2} | {p99:F2} | {bytes:F0} | {matched} | {(mean <= TargetMicroseconds ? "met" : "NOT met")} |");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"worst mean {worst:F2} µs/event: target {(worst <= TargetMicroseconds ? "met" : "NOT met")}");
        Console.Write(report.ToString());
        return worst <= TargetMicroseconds ? 0 : 3;
    }

    private static (double MeanMicroseconds, double P99Microseconds, double BytesPerEvent) Measure(RuleSet ruleSet, Func<RoutingEvent> create, RoutingFacts facts, int iterations)
    {
        const int Batch = 1000;
        var batches = new List<double>();
        var sink = 0;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var total = Stopwatch.StartNew();
        for (var done = 0; done < iterations; done += Batch)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Batch; i++)
            {
                sink += RouteMatcher.Match(ruleSet, create(), facts).Count;
            }

            batches.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / Batch);
        }

        total.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        GC.KeepAlive(sink);
        batches.Sort();
        var count = batches.Count * Batch;
        return (total.Elapsed.TotalMicroseconds / count, batches[(int)Math.Min(batches.Count - 1, Math.Ceiling(batches.Count * 0.99) - 1)], (double)allocated / count);
    }

    private static Func<RoutingEvent> Message(DateTimeOffset now, string text, string role)
    {
        var data = Parse("""{"message": {"text": "t", "sender": {"role": "visitor"}}}""");
        return () => new RoutingEvent("01JEVENT", "default", EventTypes.MessageCreated, null, "c-1", 1, now, Causation.Of("bench"), data, data) { Text = text, SenderRole = role };
    }

    private static Func<RoutingEvent> Inbound(DateTimeOffset now, string type, string json)
    {
        var data = Parse(json);
        return () => new RoutingEvent("01JEVENT", "default", EventTypes.InboundReceived, type, "c-1", 1, now, Causation.Of("bench"), data, data);
    }

    private static Func<RoutingEvent> Known(DateTimeOffset now, string type, string json, string? inbox)
    {
        var data = Parse(json);
        return () => new RoutingEvent("01JEVENT", "default", type, null, "c-1", 1, now, Causation.Of("bench"), data, data) { Inbox = inbox };
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// A realistic large ruleset: intents with keywords and a regex each (one route per intent), two routes per inbound
    /// type (the first with conditions that do not hold), and conversation-event routes.
    /// </summary>
    public static string RuleSetText(int routes)
    {
        var intents = routes * 2 / 5;
        var inbound = routes * 2 / 5;
        var conversation = routes - intents - inbound;
        var yaml = new StringBuilder();
        yaml.AppendLine("""
            defaults: { mode: first-match, deadline: 5s }
            connectors:
              ERP:
                baseUrl: "http://localhost:9100"
                operations:
                  updateOrder: { method: POST, path: "/orders/{order_id}/sync" }
            intents:
            """);
        for (var i = 0; i < intents; i++)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $$"""
                  intent_{{i}}:
                    keywords: ["关键词{{i}}号", "keyword-{{i}}", "ＫＷ{{i}}Ｘ"]
                    regex: 'topic{{i}}\s*(?<order_id>\d{6,})'
                """);
        }

        yaml.AppendLine("routes:");
        for (var i = 0; i < intents; i++)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $$"""
                  - id: intent-{{i}}
                    match: intent_{{i}}
                    when: { not: { contains: { $text: "unsubscribe" } } }
                    actions:
                      - reply_template: "我们已收到（{{i}}）"
                      - tag: [intent-{{i}}]
                """);
        }

        for (var i = 0; i < inbound; i++)
        {
            var type = $"type_{i / 2}";
            var route = i % 2 == 0
                ? $$"""
                  - id: inbound-{{i}}-vip
                    on: {{type}}
                    priority: 10
                    when:
                      all:
                        - eq: { status: paid }
                        - gt: { amount: 1000 }
                        - contains: { tags: vip }
                    actions:
                      - call: ERP::updateOrder
                      - reply_template: "VIP 订单#{order_id}已更新"
                """
                : $$"""
                  - id: inbound-{{i}}
                    on: {{type}}
                    when:
                      any:
                        - in: { status: [paid, shipped] }
                        - exists: refund_id
                    extract:
                      name: customer.name
                      oid: { path: order_id, regex: '(\d+)' }
                    actions:
                      - call: ERP::updateOrder
                      - reply_template: "您的订单#{order_id}已更新"
                    timeout: 3s
                    retry: 2
                """;
            yaml.AppendLine(route);
        }

        for (var i = 0; i < conversation; i++)
        {
            yaml.AppendLine(CultureInfo.InvariantCulture, $$"""
                  - id: conversation-{{i}}
                    on: [conversation.status_changed, conversation.created]
                    priority: {{-i}}
                    when:
                      all:
                        - eq: { status: {{(i == conversation - 1 ? "resolved" : "status-" + i)}} }
                        - not: { business_hours: true }
                    actions:
                      - emit: { type: custom.conv_{{i}}, data: { status: "{status}" } }
                """);
        }

        return yaml.ToString();
    }
}
