using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Routing.Runtime;

[GenerateSerializer]
public sealed class RoutingRulesState
{
    [Id(0)] public RoutingRules? Rules { get; set; }
}

/// <summary>
/// A tenant's rules (key: the tenant), durable for the whole cluster: a text that does not compile is refused with its
/// problems and the last good one stays; the same text again changes nothing. After a change the tenant's router is
/// told (it starts on the first set, from the log's head: rules act on events from then on).
/// </summary>
public sealed class RoutingRulesGrain(
    [PersistentState("routingRules", KefuStorage.Name)] IPersistentState<RoutingRulesState> state,
    IRuleSetSource ruleSets,
    TimeProvider time) : Grain, IRoutingRulesGrain
{
    public async Task<RoutingSetResult> Set(string yaml, string source, Caller caller)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(caller);
        if (Encoding.UTF8.GetByteCount(yaml) > RoutingLimits.MaxTextBytes)
        {
            return new RoutingSetResult(null, [new RoutingProblem(0, 0, $"The rules are larger than {RoutingLimits.MaxTextBytes / 1024} KiB.")]);
        }

        var tenant = this.GetPrimaryKeyString();
        var hash = CompiledRuleSets.HashOf(yaml);
        if (state.State.Rules is { } current && current.Hash == hash)
        {
            // Nothing changes; the router is reminded (cheap), in case it was never told (a lost call).
            await GrainFactory.GetGrain<IRoutingRouterGrain>(tenant).RulesChanged(current);
            return new RoutingSetResult(current, [], Unchanged: true);
        }

        var compilation = ruleSets.Compile(yaml);
        if (compilation.RuleSet is not { } ruleSet || compilation.Problems.Length > 0)
        {
            return new RoutingSetResult(null, compilation.Problems.Length > 0 ? compilation.Problems : [new RoutingProblem(0, 0, "The rules do not compile.")]);
        }

        var rules = new RoutingRules(yaml, hash, source, time.GetUtcNow(), caller.Name ?? caller.Id, (state.State.Rules?.Version ?? 0) + 1, ruleSet.Routes.Count);
        state.State.Rules = rules;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IRoutingRouterGrain>(tenant).RulesChanged(rules);
        return new RoutingSetResult(rules, []);
    }

    public Task<RoutingRules?> Get() => Task.FromResult(state.State.Rules);
}
