using Kefu.Contracts.Events;

namespace Kefu.Contracts.Grains;

// The routing runtime's own grains (issue #15, docs/architecture.md "Routing"): called by the runtime only, never by
// the gateway. The public surface is IRoutingRulesGrain and IRoutingExecutionLogGrain (IRoutingGrains.cs).

/// <summary>
/// A tenant's router: reads the tenant's event log after a durable cursor (only the types its rules listen to) and
/// hands each matching event to its <see cref="IRoutingExecutionGrain"/>. Key: the tenant.
/// </summary>
public interface IRoutingRouterGrain : IGrainWithStringKey
{
    /// <summary>
    /// The tenant's rules were set or changed (the rules grain calls this after its write, with the rules: the router
    /// must not call back into the rules grain, which is waiting for it).
    /// </summary>
    Task RulesChanged(RoutingRules rules);

    /// <summary>New events may be there: look now instead of at the next poll.</summary>
    [OneWay]
    Task Poke();

    /// <summary>The durable cursor and how many executions are under way (for tests and operators).</summary>
    Task<RoutingRouterStatus> GetStatus();
}

[GenerateSerializer, Immutable]
public sealed record RoutingRouterStatus(
    [property: Id(0)] bool Started,
    [property: Id(1)] long Cursor,
    [property: Id(2)] long ReadCursor,
    [property: Id(3)] int InFlight,
    [property: Id(4)] string? RulesetHash);

/// <summary>
/// The routes of one event, run once (exactly once per event id: the outcome of each route is durable here, a second
/// <see cref="Run"/> answers from it). Key: "{tenant}/{eventId}".
/// </summary>
public interface IRoutingExecutionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Runs (or has run) the routes the router matched for <paramref name="trigger"/> under the ruleset
    /// <paramref name="rulesetHash"/>, in order. <paramref name="inbox"/>: the inbox of the event's conversation.
    /// </summary>
    Task<RouteExecuted[]> Run(StoredEvent trigger, string rulesetHash, MatchedRoute[] routes, string? inbox);
}

/// <summary>A route the router matched for an event, with the values its <c>extract</c> took.</summary>
[GenerateSerializer, Immutable]
public sealed record MatchedRoute(
    [property: Id(0)] string RouteId,
    [property: Id(1)] Dictionary<string, string> Extracted);

/// <summary>
/// <c>once_per: conversation</c> and <c>cooldown</c> of a conversation's routes. Key: "{tenant}/{conversationId}".
/// </summary>
public interface IRoutingConversationGrain : IGrainWithStringKey
{
    /// <summary>
    /// True when route <paramref name="routeId"/> may run for event <paramref name="eventId"/> now (and records that it
    /// does); the same event again is allowed again (a re-run after a lost silo).
    /// </summary>
    Task<bool> TryClaim(string routeId, string eventId, bool oncePerConversation, TimeSpan? cooldown, DateTimeOffset now);
}

/// <summary>What the execution grains report to the tenant's execution log (<see cref="IRoutingExecutionLogGrain"/>, same grain).</summary>
public interface IRoutingExecutionRecorder : IGrainWithStringKey
{
    [OneWay]
    Task Add(RouteExecutionRecord[] records);
}
