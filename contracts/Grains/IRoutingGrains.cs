using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;

namespace Kefu.Contracts.Grains;

/// <summary>
/// A tenant's routing rules (issue #15, docs/routing.md): the YAML text as set, durable for the whole cluster. Key: the
/// tenant. An invalid text is refused with its problems and the last good one stays.
/// </summary>
public interface IRoutingRulesGrain : IGrainWithStringKey
{
    /// <summary>
    /// Replaces the rules with <paramref name="yaml"/> if it compiles. <paramref name="source"/>: <see cref="RoutingSources"/>.
    /// The same text again is answered with <see cref="RoutingSetResult.Unchanged"/> and changes nothing.
    /// </summary>
    Task<RoutingSetResult> Set(string yaml, string source, Caller caller);

    /// <summary>The current rules, or null when none were ever set (no route runs).</summary>
    Task<RoutingRules?> Get();
}

public static class RoutingSources
{
    /// <summary><c>PUT /api/v1/routing</c>.</summary>
    public const string Api = "api";

    /// <summary>The file named by <c>Kefu:Routing:File</c> (default <c>config/routing.yaml</c>), loaded at start and on change.</summary>
    public const string File = "file";
}

/// <summary>
/// A tenant's rules as set. <see cref="Hash"/>: lower-case hex SHA-256 of the UTF-8 text (names the ruleset in every
/// route.executed record). <see cref="Version"/> grows by one with every change.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RoutingRules(
    [property: Id(0)] string Text,
    [property: Id(1)] string Hash,
    [property: Id(2)] string Source,
    [property: Id(3)] DateTimeOffset UpdatedAt,
    [property: Id(4)] string? UpdatedBy,
    [property: Id(5)] long Version,
    [property: Id(6)] int RouteCount);

/// <summary>One problem in a ruleset: 1-based line and column in the YAML text (0 when it concerns the whole text).</summary>
[GenerateSerializer, Immutable]
public sealed record RoutingProblem(
    [property: Id(0)] int Line,
    [property: Id(1)] int Column,
    [property: Id(2)] string Message);

/// <summary>The answer to <see cref="IRoutingRulesGrain.Set"/>: the rules now in force, or the problems (nothing changed).</summary>
[GenerateSerializer, Immutable]
public sealed record RoutingSetResult(
    [property: Id(0)] RoutingRules? Rules,
    [property: Id(1)] RoutingProblem[] Problems,
    [property: Id(2)] bool Unchanged = false)
{
    public bool Succeeded => Problems.Length == 0 && Rules is not null;
}

/// <summary>
/// The tenant's recent route executions, newest first, for <c>GET /api/v1/routing/executions</c> and the console (the
/// full history is in the event log as route.executed events). Key: the tenant.
/// </summary>
public interface IRoutingExecutionLogGrain : IGrainWithStringKey
{
    /// <summary>At most <paramref name="limit"/> (1–500) records, newest first; only a route / an outcome when given.</summary>
    Task<RouteExecutionRecord[]> Recent(int limit, string? routeId, string? outcome);
}

/// <summary>One execution as recorded: the route.executed event's id and time, and its data.</summary>
[GenerateSerializer, Immutable]
public sealed record RouteExecutionRecord(
    [property: Id(0)] string EventId,
    [property: Id(1)] DateTimeOffset Time,
    [property: Id(2)] RouteExecuted Execution);

/// <summary>Fixed limits of the routing engine.</summary>
public static class RoutingLimits
{
    /// <summary>Rules do not react to events whose causation depth is this or more (a chain of rules stops here).</summary>
    public const int MaxDepth = 3;

    /// <summary>Largest ruleset text accepted (bytes of UTF-8).</summary>
    public const int MaxTextBytes = 512 * 1024;
}
