namespace Kefu.Grains.Routing;

/// <summary>
/// A dry run (<c>POST /api/v1/routing/dry-run</c>): what the ruleset would do with an event — matched routes, each step's
/// planned call (method, URL, body), rendered reply (or the variable it lacks until a call answers) — without executing
/// anything. STUB in the base commit: the language helper implements it.
/// </summary>
public static class RoutePlanner
{
    public static RoutingPlan Plan(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts) => new(routingEvent.Name, []);
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
