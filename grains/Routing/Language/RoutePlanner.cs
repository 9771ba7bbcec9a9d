using System.Text.Encodings.Web;
using System.Text.Json;

namespace Kefu.Grains.Routing;

/// <summary>
/// A dry run (<c>POST /api/v1/routing/dry-run</c>): what the ruleset would do with an event — matched routes, each step's
/// planned call (method, URL, body), rendered reply (or the variable it lacks until a call answers) — without executing
/// anything.
/// </summary>
public static class RoutePlanner
{
    // Readable in the console: Chinese text stays as it is, not \uXXXX.
    private static readonly JsonSerializerOptions EmitJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static RoutingPlan Plan(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(routingEvent);
        ArgumentNullException.ThrowIfNull(facts);
        var routes = new List<PlannedRoute>();
        foreach (var match in RouteMatcher.Match(ruleSet, routingEvent, facts))
        {
            var budget = Budget(ruleSet, match.Route, routingEvent, facts.Now);
            var scope = new TemplateScope(match.Extracted, routingEvent.Data, null);
            var steps = match.Route.Actions.Select(step => PlanStep(ruleSet, match.Route, step, scope, routingEvent, budget)).ToArray();
            routes.Add(new PlannedRoute(match.Route.Id, match.Route.Priority, match.Extracted, (long)budget.TotalMilliseconds, steps));
        }

        return new RoutingPlan(routingEvent.Name, routes);
    }

    /// <summary>A route's whole budget: its <c>timeout</c> (else the defaults' deadline), cut short by the event's own deadline.</summary>
    public static TimeSpan Budget(RuleSet ruleSet, RouteSpec route, RoutingEvent routingEvent, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(routingEvent);
        var budget = route.Timeout ?? ruleSet.Defaults.Deadline;
        if (routingEvent.Deadline is { } deadline)
        {
            var left = deadline - now;
            budget = left < budget ? left : budget;
        }

        return budget < TimeSpan.Zero ? TimeSpan.Zero : budget;
    }

    /// <summary>A step's retries: its own, else its route's, else the defaults'.</summary>
    public static RetrySpec RetryOf(RuleSet ruleSet, RouteSpec route, StepSpec step)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(step);
        return step.Retry ?? route.Retry ?? ruleSet.Defaults.Retry;
    }

    /// <summary>One attempt's limit before the route's budget cuts it: the step's, else the connector's, else the defaults'.</summary>
    public static TimeSpan AttemptTimeoutOf(RuleSet ruleSet, StepSpec step)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(step);
        var connectorTimeout = step is CallStep call && ruleSet.Connectors.TryGetValue(call.Connector, out var connector) ? connector.Timeout : null;
        return step.Timeout ?? connectorTimeout ?? ruleSet.Defaults.StepTimeout;
    }

    /// <summary>
    /// The URL of a call: the operation's path (placeholders filled and URL-escaped) appended to the connector's base URL
    /// (its own path kept: <c>http://erp/api</c> + <c>/orders/1</c> = <c>http://erp/api/orders/1</c>).
    /// </summary>
    public static TemplateResult RenderUrl(ConnectorSpec connector, OperationSpec operation, TemplateScope scope)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(operation);
        var path = operation.Path.Render(scope, urlEscape: true);
        return path.Text is { } text ? new(connector.BaseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + text, null) : path;
    }

    private static PlannedStep PlanStep(RuleSet ruleSet, RouteSpec route, StepSpec step, TemplateScope scope, RoutingEvent e, TimeSpan budget)
    {
        var attempts = step is CallStep ? RetryOf(ruleSet, route, step).Retries + 1 : 1;
        var attemptTimeout = AttemptTimeoutOf(ruleSet, step);
        long? timeoutMs = (long)(attemptTimeout < budget ? attemptTimeout : budget).TotalMilliseconds;
        switch (step)
        {
            case CallStep call:
                {
                    var connector = ruleSet.Connectors[call.Connector];
                    var operation = connector.Operations[call.Operation];
                    var url = RenderUrl(connector, operation, scope);
                    var body = e.Data.ValueKind == JsonValueKind.Undefined ? null : e.Data.GetRawText();
                    return new PlannedStep(step.Index, step.Action, step.Target, operation.Method, url.Text, body, null, operation.Path.Unresolved(scope), attempts, timeoutMs);
                }

            case ReplyTemplateStep reply:
                {
                    var text = reply.Template.Render(scope);
                    return new PlannedStep(step.Index, step.Action, step.Target, null, null, null, text.Text, reply.Template.Unresolved(scope), attempts, timeoutMs);
                }

            case EmitStep emit:
                {
                    var unresolved = new List<string>();
                    var data = new Dictionary<string, string?>(StringComparer.Ordinal);
                    foreach (var (key, template) in emit.Data)
                    {
                        data[key] = template.Render(scope).Text;
                        unresolved.AddRange(template.Unresolved(scope).Where(v => !unresolved.Contains(v)));
                    }

                    return new PlannedStep(step.Index, step.Action, step.Target, null, null, JsonSerializer.Serialize(data, EmitJson), null, unresolved, attempts, timeoutMs);
                }

            default:
                return new PlannedStep(step.Index, step.Action, step.Target, null, null, null, null, [], attempts, timeoutMs);
        }
    }
}

public sealed record RoutingPlan(string EventName, IReadOnlyList<PlannedRoute> Routes);

/// <summary><see cref="BudgetMs"/>: the route's whole time budget.</summary>
public sealed record PlannedRoute(string RouteId, int Priority, IReadOnlyDictionary<string, string> Extracted, long BudgetMs, IReadOnlyList<PlannedStep> Steps);

/// <summary>
/// One step as it would run. For <c>call</c>: <see cref="Method"/>, <see cref="Url"/> (null when a path variable is only
/// known after an earlier call) and <see cref="BodyJson"/>; for <c>reply_template</c>: <see cref="Text"/>; for the others
/// <see cref="StepSpec.Target"/> in <see cref="Target"/>. <see cref="Unresolved"/>: variables known only at run time.
/// <see cref="Attempts"/>: at most this many attempts.
/// </summary>
public sealed record PlannedStep(
    int Index,
    string Action,
    string? Target,
    string? Method,
    string? Url,
    string? BodyJson,
    string? Text,
    IReadOnlyList<string> Unresolved,
    int Attempts,
    long? TimeoutMs);
