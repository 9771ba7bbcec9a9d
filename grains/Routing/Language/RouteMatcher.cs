namespace Kefu.Grains.Routing;

/// <summary>
/// Which routes of a ruleset act on an event, in order (docs/routing.md, "Matching"): routes whose <c>on</c> names the
/// event, whose <c>when</c> holds, whose extractions succeed; only the first unless the mode is <c>all</c> or a matched
/// route says <c>continue</c>. Pure and allocation-light: it runs for every listened event. Does not apply
/// <c>once_per</c>/<c>cooldown</c> (state the runtime holds) nor the depth guard (the runtime's).
/// STUB in the base commit: the language helper implements it.
/// </summary>
public static class RouteMatcher
{
    public static IReadOnlyList<RouteMatch> Match(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts) => [];
}

/// <summary>A route that matched, with the values its <c>extract</c> took (and intent named groups).</summary>
public sealed record RouteMatch(RouteSpec Route, IReadOnlyDictionary<string, string> Extracted);
