using Kefu.Contracts.Grains;

namespace Kefu.Grains.Routing;

/// <summary>
/// YAML text → <see cref="RuleSet"/> (docs/routing.md). Strict: an unknown key, a wrong type, a dangling connector or
/// intent reference, an invalid regex or duration is a <see cref="RoutingProblem"/> with line and column; a ruleset with
/// any problem does not compile. STUB in the base commit: the language helper implements it.
/// </summary>
public static class RuleSetCompiler
{
    public static RuleSetCompilation Compile(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        return new(new RuleSet(1, RoutingDefaults.Standard, new Dictionary<string, ConnectorSpec>(), new Dictionary<string, IntentSpec>(), [], hash), []);
    }
}

/// <summary>The compiled ruleset, or its problems (then <see cref="RuleSet"/> is null).</summary>
public sealed record RuleSetCompilation(RuleSet? RuleSet, RoutingProblem[] Problems);
