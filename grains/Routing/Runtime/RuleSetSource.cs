using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>Where the runtime gets compiled rulesets from (a seam: tests hand in rulesets built in code).</summary>
public interface IRuleSetSource
{
    /// <summary>Compiles <paramref name="text"/> (cached by its hash when it compiles).</summary>
    RuleSetCompilation Compile(string text);

    /// <summary>The compiled form of the rules as set (they compiled when set; null if they no longer do).</summary>
    RuleSet? Get(RoutingRules rules);

    /// <summary>A ruleset this process compiled before, by hash.</summary>
    RuleSet? TryGet(string hash);
}

/// <summary>
/// Compiles with <see cref="RuleSetCompiler"/>, once per ruleset hash per process: every router and execution on the
/// silo shares the one immutable compiled form. A few rulesets are kept (old ones are still named by executions in flight).
/// </summary>
public sealed class CompiledRuleSets : IRuleSetSource
{
    private const int Kept = 16;
    private readonly ConcurrentDictionary<string, RuleSet> _byHash = new(StringComparer.Ordinal);

    public static string HashOf(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public RuleSetCompilation Compile(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hash = HashOf(text);
        if (_byHash.TryGetValue(hash, out var cached))
        {
            return new RuleSetCompilation(cached, []);
        }

        var compilation = RuleSetCompiler.Compile(text);
        if (compilation.RuleSet is { } ruleSet && compilation.Problems.Length == 0)
        {
            if (_byHash.Count >= Kept)
            {
                _byHash.Clear(); // rare (rules change seldom); whatever is needed again is compiled again
            }

            _byHash[hash] = ruleSet;
        }

        return compilation;
    }

    public RuleSet? Get(RoutingRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return TryGet(rules.Hash) ?? Compile(rules.Text).RuleSet;
    }

    public RuleSet? TryGet(string hash) => _byHash.TryGetValue(hash, out var ruleSet) ? ruleSet : null;
}

/// <summary>Which routes act on an event (a seam over <see cref="RouteMatcher"/>).</summary>
public interface IRouteSelector
{
    IReadOnlyList<RouteMatch> Match(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts);
}

public sealed class LanguageRouteSelector : IRouteSelector
{
    public IReadOnlyList<RouteMatch> Match(RuleSet ruleSet, RoutingEvent routingEvent, RoutingFacts facts) =>
        RouteMatcher.Match(ruleSet, routingEvent, facts);
}
