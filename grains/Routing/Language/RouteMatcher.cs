using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Kefu.Grains.Routing;

/// <summary>
/// Which routes of a ruleset act on an event, in order (docs/routing.md, "Matching"): routes whose <c>on</c> names the
/// event, whose <c>when</c> holds, whose extractions succeed; only the first unless the mode is <c>all</c> or a matched
/// route says <c>continue</c>. Pure and allocation-light: it runs for every listened event. Does not apply
/// <c>once_per</c>/<c>cooldown</c> (state the runtime holds) nor the depth guard (the runtime's).
/// </summary>
public static class RouteMatcher
{
    private static readonly IReadOnlyDictionary<string, string> NoValues = FrozenDictionary<string, string>.Empty;

    // Per ruleset (compiled once per hash and shared), the routes by event name in evaluation order: an event only
    // looks at the routes that listen to its name. Keyed by instance, so a `with` copy gets its own index.
    private static readonly ConditionalWeakTable<RuleSet, RouteIndex> Indexes = [];

    public static IReadOnlyList<RouteMatch> Match(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts)
    {
        ArgumentNullException.ThrowIfNull(ruleSet);
        ArgumentNullException.ThrowIfNull(routingEvent);
        ArgumentNullException.ThrowIfNull(facts);
        var index = Indexes.GetValue(ruleSet, static r => new RouteIndex(r));
        if (!index.ByName.TryGetValue(routingEvent.Name, out var candidates))
        {
            return [];
        }

        List<RouteMatch>? matches = null;
        foreach (var candidate in candidates)
        {
            if (candidate.Route.When is { } when && !when.Evaluate(routingEvent, facts))
            {
                continue;
            }

            if (!TryExtract(candidate, routingEvent, out var extracted))
            {
                continue;
            }

            (matches ??= new List<RouteMatch>(1)).Add(new RouteMatch(candidate.Route, extracted));
            if (ruleSet.Defaults.Mode == RouteMode.FirstMatch && !candidate.Route.Continue)
            {
                break;
            }
        }

        return matches is null ? [] : matches;
    }

    /// <summary>
    /// The route's values: named groups of the regexes that decided the match (intent patterns, <c>regex</c> conditions
    /// outside <c>not</c>), then its <c>extract</c> entries (which win). An <c>extract</c> with no value fails the match.
    /// </summary>
    private static bool TryExtract(IndexedRoute candidate, RoutingEvent e, out IReadOnlyDictionary<string, string> extracted)
    {
        Dictionary<string, string>? values = null;
        foreach (var capture in candidate.Captures)
        {
            if (!capture.Field.TryGetNormalized(e, lower: false, out var input))
            {
                continue;
            }

            var match = capture.Pattern.Match(input);
            if (!match.Success)
            {
                continue;
            }

            foreach (var name in capture.GroupNames)
            {
                var group = match.Groups[name];
                if (group.Success)
                {
                    (values ??= new(StringComparer.Ordinal)).TryAdd(name, group.Value);
                }
            }
        }

        foreach (var spec in candidate.Extract)
        {
            if (!TryExtractOne(spec, e, out var value))
            {
                extracted = NoValues;
                return false;
            }

            (values ??= new(StringComparer.Ordinal))[spec.Spec.Name] = value;
        }

        extracted = values is null ? NoValues : values;
        return true;
    }

    private static bool TryExtractOne(IndexedExtract spec, RoutingEvent e, out string value)
    {
        if (spec.Spec.Pattern is not { } pattern)
        {
            return spec.Field.TryGetString(e, out value);
        }

        value = "";
        if (!spec.Field.TryGetNormalized(e, lower: false, out var input))
        {
            return false;
        }

        var match = pattern.Match(input);
        if (!match.Success)
        {
            return false;
        }

        // The named group, else a group named like the variable, else the first group, else the whole match.
        var group = spec.Spec.Group is { } name ? match.Groups[name]
            : pattern.GetGroupNumbers().Length > 1 ? (match.Groups[spec.Spec.Name] is { Success: true } same ? same : match.Groups[1])
            : match.Groups[0];
        if (!group.Success)
        {
            return false;
        }

        value = group.Value;
        return true;
    }

    private sealed class RouteIndex
    {
        public RouteIndex(RuleSet ruleSet)
        {
            var byName = new Dictionary<string, List<IndexedRoute>>(StringComparer.Ordinal);
            foreach (var route in ruleSet.Routes)
            {
                var indexed = new IndexedRoute(route);
                foreach (var name in route.On.Distinct(StringComparer.Ordinal))
                {
                    if (!byName.TryGetValue(name, out var list))
                    {
                        byName[name] = list = [];
                    }

                    list.Add(indexed);
                }
            }

            ByName = byName.ToFrozenDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
        }

        public FrozenDictionary<string, IndexedRoute[]> ByName { get; }
    }

    private sealed class IndexedRoute
    {
        private static readonly FieldRef Text = FieldRef.TryParse("$text", out _)!;

        public IndexedRoute(RouteSpec route)
        {
            Route = route;
            var captures = new List<Capture>();
            if (route.When is { } when)
            {
                Collect(when, captures);
            }

            Captures = [.. captures];
            Extract = [.. route.Extract.Select(spec => new IndexedExtract(spec, FieldRef.TryParse(spec.Path ?? "$text", out _) ?? Text))];
        }

        public RouteSpec Route { get; }

        public Capture[] Captures { get; }

        public IndexedExtract[] Extract { get; }

        private static void Collect(RouteCondition condition, List<Capture> captures)
        {
            switch (condition)
            {
                case AllCondition all:
                    foreach (var inner in all.Conditions)
                    {
                        Collect(inner, captures);
                    }

                    break;
                case AnyCondition any:
                    foreach (var inner in any.Conditions)
                    {
                        Collect(inner, captures);
                    }

                    break;
                case RegexCondition regex:
                    Add(regex.Field, regex.Pattern, captures);
                    break;
                case IntentCondition intent:
                    foreach (var pattern in intent.Intent.Patterns)
                    {
                        Add(Text, pattern, captures);
                    }

                    break;

                // `not` holds when its patterns do not match: they have nothing to give.
            }
        }

        private static void Add(FieldRef field, Regex pattern, List<Capture> captures)
        {
            var names = pattern.GetGroupNames().Where(n => !int.TryParse(n, out _)).ToArray();
            if (names.Length > 0)
            {
                captures.Add(new Capture(field, pattern, names));
            }
        }
    }

    private sealed record Capture(FieldRef Field, Regex Pattern, string[] GroupNames);

    private sealed record IndexedExtract(ExtractSpec Spec, FieldRef Field);
}

/// <summary>A route that matched, with the values its <c>extract</c> took (and intent named groups).</summary>
public sealed record RouteMatch(RouteSpec Route, IReadOnlyDictionary<string, string> Extracted);
