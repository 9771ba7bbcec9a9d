using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Routing.Runtime;

[GenerateSerializer]
public sealed class RoutingExecutionState
{
    /// <summary>Every matched route has run (or was refused by once_per/cooldown): <see cref="Results"/> is the answer.</summary>
    [Id(0)] public bool Finished { get; set; }

    /// <summary>One per route that ran, in order; written with the route.executed event that records it.</summary>
    [Id(1)] public List<RouteExecuted> Results { get; set; } = [];

    /// <summary>route.executed events written with the state and not yet relayed (<see cref="GrainEvents"/>).</summary>
    [Id(2)] public List<DomainEvent> PendingEvents { get; set; } = [];

    [Id(3)] public string? RulesetHash { get; set; }

    /// <summary>The trigger's cursor in the tenant's event log: once the router's durable cursor is past it, nothing asks again.</summary>
    [Id(4)] public long TriggerCursor { get; set; }
}

/// <summary>
/// The routes of one event (key "{tenant}/{eventId}"), run exactly once per event id: after each route its outcome and its
/// route.executed event are one state write (the outbox, <see cref="GrainEvents"/>), and a second <see cref="Run"/> — the
/// router again after a lost silo, or a replay — answers from that state. A silo lost in the middle of a route runs that
/// route again: calls carry the same <c>Idempotency-Key</c>, replies the same client message id, emitted events the same
/// id, so what it did the first time is not done twice.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed partial class RoutingExecutionGrain(
    [PersistentState("routingExecution", KefuStorage.Name)] IPersistentState<RoutingExecutionState> state,
    IEventLog eventLog,
    IRuleSetSource ruleSets,
    IRouteSelector selector,
    RouteRunner runner,
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<RoutingExecutionGrain> logger) : Grain, IRoutingExecutionGrain
{
    private (string Tenant, string EventId) Key => Tenancy.Split(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken) => GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);

    /// <summary>
    /// The record is dropped when the router's durable cursor has passed the event (the router never reads below it
    /// again, so no second <see cref="Run"/> can come): storage keeps one row per event only while it matters.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var s = state.State;
        if (!s.Finished || s.PendingEvents.Count > 0 || s.TriggerCursor <= 0)
        {
            return;
        }

        try
        {
            var router = await GrainFactory.GetGrain<IRoutingRouterGrain>(Key.Tenant).GetStatus().WaitAsync(cancellationToken);
            if (router.Cursor >= s.TriggerCursor)
            {
                await state.ClearStateAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogCleanupFailed(logger, ex, Key.Tenant, Key.EventId); // kept: asked again, it answers from the record
        }
    }

    public async Task<RouteExecuted[]> Run(StoredEvent trigger, string rulesetHash, MatchedRoute[] routes, string? inbox)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(routes);
        var s = state.State;
        if (s.Finished)
        {
            await GrainEvents.RelayAsync(eventLog, s.PendingEvents);
            return [.. s.Results];
        }

        var tenant = Key.Tenant;
        var ruleSet = await RuleSetAsync(tenant, s.RulesetHash ?? rulesetHash);
        var e = RoutingEvent.FromStored(trigger);
        if (e.Inbox is null && inbox is not null)
        {
            e = e with { Inbox = inbox };
        }

        var matches = ruleSet is null || e.Causation.Depth >= RoutingLimits.MaxDepth ? [] : Resolve(ruleSet.Value.RuleSet, ruleSet.Value.Hash == rulesetHash, routes, e);
        s.RulesetHash ??= ruleSet?.Hash;
        s.TriggerCursor = trigger.Cursor;
        var recorded = new List<RouteExecutionRecord>();
        foreach (var match in matches)
        {
            var route = match.Route;
            if (s.Results.Exists(r => r.RouteId == route.Id))
            {
                continue; // ran before this silo was lost
            }

            var result = await RefusedAsync(tenant, e, route) is { } refused
                ? new RouteExecuted(e.EventId, e.Name, ruleSet!.Value.Hash, route.Id, RouteOutcomes.Skipped, [], 0, 0, e.ConversationId, refused)
                : await runner.RunAsync(ruleSet!.Value.RuleSet, match, e, ruleSet.Value.Hash, Actions(tenant, e, route));
            var now = time.GetUtcNow();
            var cause = Causation.OfRule(route.Id, e.EventId, e.Causation.Depth);
            var executed = new DomainEvent(RouteRunner.EventIdFor(e, route.Id, "executed"), tenant, null, 0, now, cause, result);
            s.Results.Add(result);
            s.PendingEvents.Add(executed);
            s.Finished = s.Results.Count >= matches.Count;
            await state.WriteStateAsync();
            await GrainEvents.RelayAsync(eventLog, s.PendingEvents);
            recorded.Add(new RouteExecutionRecord(executed.Id.ToString(), now, result));
            LogExecuted(logger, tenant, route.Id, e.EventId, result.Outcome, result.ElapsedMs);
        }

        if (!s.Finished)
        {
            s.Finished = true;
            await state.WriteStateAsync();
        }

        if (recorded.Count > 0)
        {
            await GrainFactory.GetGrain<IRoutingExecutionRecorder>(tenant).Add([.. recorded]);
        }

        return [.. s.Results];
    }

    /// <summary>
    /// The routes the router matched, found in the ruleset it matched with. If this silo only has a newer ruleset (the
    /// rules changed while the event waited), the event is matched again with it (without business-hours facts).
    /// </summary>
    private List<RouteMatch> Resolve(RuleSet ruleSet, bool sameRuleset, MatchedRoute[] routes, RoutingEvent e)
    {
        if (!sameRuleset)
        {
            return [.. selector.Match(ruleSet, e, RoutingFacts.At(time.GetUtcNow()))];
        }

        var matches = new List<RouteMatch>(routes.Length);
        foreach (var matched in routes)
        {
            if (ruleSet.Routes.FirstOrDefault(r => r.Id == matched.RouteId) is { } route)
            {
                matches.Add(new RouteMatch(route, matched.Extracted));
            }
        }

        return matches;
    }

    private IRouteActions Actions(string tenant, RoutingEvent e, RouteSpec route)
    {
        var caller = Caller.ForRule(tenant, Causation.OfRule(route.Id, e.EventId, e.Causation.Depth), options.Value.BotName);
        return new ConversationRouteActions(GrainFactory, eventLog, tenant, caller, time);
    }

    /// <summary>once_per / cooldown, held per conversation: why the route does not run, or null.</summary>
    private async Task<string?> RefusedAsync(string tenant, RoutingEvent e, RouteSpec route)
    {
        var oncePer = string.Equals(route.OncePer, "conversation", StringComparison.Ordinal);
        if ((!oncePer && route.Cooldown is null) || e.ConversationId is not { } conversationId)
        {
            return null;
        }

        var allowed = await GrainFactory.GetGrain<IRoutingConversationGrain>(Tenancy.Key(tenant, conversationId))
            .TryClaim(route.Id, e.EventId, oncePer, route.Cooldown, time.GetUtcNow());
        return allowed ? null : oncePer ? "once_per: the route ran in this conversation before" : "cooldown: the route ran in this conversation recently";
    }

    /// <summary>The ruleset the router matched with if this silo has it, else the tenant's current one.</summary>
    private async Task<(RuleSet RuleSet, string Hash)?> RuleSetAsync(string tenant, string hash)
    {
        if (ruleSets.TryGet(hash) is { } known)
        {
            return (known, hash);
        }

        var rules = await GrainFactory.GetGrain<IRoutingRulesGrain>(tenant).Get();
        return rules is not null && ruleSets.Get(rules) is { } current ? (current, rules.Hash) : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing {Tenant}: the execution record of event {EventId} could not be dropped")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string tenant, string eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Routing {Tenant}: route {RouteId} for event {EventId}: {Outcome} in {ElapsedMs} ms")]
    private static partial void LogExecuted(ILogger logger, string tenant, string routeId, string eventId, string outcome, long elapsedMs);
}
