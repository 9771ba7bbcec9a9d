using Kefu.Grains.Routing;

namespace Kefu.Grains.Tests.Routing;

/// <summary>The routing action <c>plugin: name</c> in the language: compiled, refused with line and column, planned by a dry run without a call.</summary>
public sealed class PluginStepLanguageTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_plugin_step_compiles_with_its_timeout_and_on_error()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk("""
            routes:
              - on: message.created
                actions:
                  - plugin: order-triage
                    timeout: 200ms
                    on_error: continue
                  - reply_template: "类别：{plugin.category}"
            """);

        var step = Assert.IsType<PluginStep>(Assert.Single(ruleSet.Routes).Actions[0]);
        Assert.Equal(("plugin", "order-triage", TimeSpan.FromMilliseconds(200), OnError.Continue), (step.Action, step.Target, step.Timeout, step.OnError));
    }

    [Theory]
    [InlineData("routes:\n  - on: x\n    actions: [ { plugin: Order_Triage } ]\n", 3, 26, "invalid plugin name 'Order_Triage'")]
    [InlineData("routes:\n  - on: x\n    actions: [ { plugin: \"\" } ]\n", 3, 26, "invalid plugin name ''")]
    [InlineData("routes:\n  - on: x\n    actions:\n      - plugin: triage\n        retry: 2\n", 5, 16, "a plugin step is not retried")]
    [InlineData("routes:\n  - on: x\n    actions: [ { plugin: a, tag: b } ]\n", 3, 16, "one action per list item")]
    [InlineData("routes:\n  - on: plugin.emited\n    actions: [ { tag: a } ]\n", 2, 9, "unknown event type 'plugin.emited'")]
    public void A_mistake_in_a_plugin_step_is_a_problem_at_its_line_and_column(string yaml, int line, int column, string message)
    {
        var compilation = RuleSetCompiler.Compile(yaml);

        Assert.Null(compilation.RuleSet);
        Assert.Contains(compilation.Problems, p => p.Line == line && p.Column == column && p.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_dry_run_shows_the_plugin_step_without_calling_it_and_lists_its_values_as_unresolved()
    {
        var ruleSet = RuleSetCompilerTests.CompileOk("""
            routes:
              - on: order_status
                actions:
                  - plugin: order-triage
                  - reply_template: "类别：{plugin.category}"
            """);

        var route = Assert.Single(RoutePlanner.Plan(ruleSet, RoutingEvent.Synthetic("t", "order_status", "{}", null, null, Now), RoutingFacts.At(Now)).Routes);

        Assert.Equal(("plugin", "order-triage", 1), (route.Steps[0].Action, route.Steps[0].Target, route.Steps[0].Attempts));
        Assert.Null(route.Steps[1].Text);
        Assert.Equal(["plugin.category"], route.Steps[1].Unresolved);
    }
}
