using System.Text.RegularExpressions;

namespace Kefu.Grains.Routing;

// The compiled form of config/routing.yaml (docs/routing.md). The language helper (grains/Routing/Language) builds it
// from YAML and owns these shapes; the runtime (grains/Routing/Runtime) only reads them. Compiled once per ruleset hash
// per process and shared: everything here is immutable after compilation.

/// <summary>How many routes one event runs: the first that matches (in priority order), or all that match.</summary>
public enum RouteMode
{
    FirstMatch,
    All,
}

/// <summary>What a failed step does to the rest of its route.</summary>
public enum OnError
{
    /// <summary>The route stops; later steps are skipped (default).</summary>
    Stop,

    /// <summary>The failure is recorded and the next step runs.</summary>
    Continue,
}

/// <summary>A compiled ruleset. <see cref="Routes"/> is in evaluation order: priority descending, then file order.</summary>
public sealed record RuleSet(
    int Version,
    RoutingDefaults Defaults,
    IReadOnlyDictionary<string, ConnectorSpec> Connectors,
    IReadOnlyDictionary<string, IntentSpec> Intents,
    IReadOnlyList<RouteSpec> Routes,
    string Hash)
{
    /// <summary>Every event name (<see cref="RoutingEvent.Name"/>) some route listens to: the runtime reads only these.</summary>
    public IReadOnlySet<string> ListenedNames { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>
/// <see cref="Deadline"/>: a route's whole budget when it sets no <c>timeout</c>; <see cref="StepTimeout"/>: one
/// attempt's limit when the step sets none (an attempt never gets more than the route has left).
/// </summary>
public sealed record RoutingDefaults(RouteMode Mode, TimeSpan Deadline, TimeSpan StepTimeout, RetrySpec Retry)
{
    public static readonly RoutingDefaults Standard = new(RouteMode.FirstMatch, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), RetrySpec.None);
}

/// <summary><see cref="Retries"/> after the first attempt; exponential backoff from <see cref="BaseDelay"/> up to <see cref="MaxDelay"/>, with jitter.</summary>
public sealed record RetrySpec(int Retries, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    public static readonly RetrySpec None = new(0, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
}

/// <summary>An external system rules call. Only <c>http</c> today.</summary>
public sealed record ConnectorSpec(
    string Name,
    string Kind,
    Uri BaseUrl,
    ConnectorAuth? Auth,
    IReadOnlyDictionary<string, OperationSpec> Operations,
    TimeSpan? Timeout,
    int Line);

/// <summary>
/// A header whose value comes from configuration, never from the file: <c>Kefu:Routing:Secrets:{SecretRef}</c>, sent as
/// <see cref="Prefix"/> + value (e.g. <c>Bearer </c>). A missing secret fails the call, it does not send an empty header.
/// </summary>
public sealed record ConnectorAuth(string Header, string SecretRef, string? Prefix);

/// <summary><see cref="Path"/> may hold <c>{var}</c> placeholders, filled (URL-escaped) like templates.</summary>
public sealed record OperationSpec(string Name, string Method, Template Path);

/// <summary>A named intent over visitor messages: any keyword (case- and width-insensitive) or any pattern matches.</summary>
public sealed record IntentSpec(string Name, IReadOnlyList<string> Keywords, IReadOnlyList<Regex> Patterns, int Line);

/// <summary>A value taken out of the event before the actions run, named for templates.</summary>
public sealed record ExtractSpec(string Name, string? Path, Regex? Pattern, string? Group, int Line);

/// <summary>
/// One route. <see cref="Id"/> is the file's <c>id</c> or, when absent, <c>route-N</c> (1-based file position).
/// <see cref="Timeout"/>: the whole route's budget (every step and attempt together; null = the defaults' deadline).
/// <see cref="Retry"/>: the route's retries per call (the seed's <c>retry: 2</c>), below a step's own.
/// <see cref="OncePer"/>: <c>conversation</c> = this route runs at most once per conversation.
/// <see cref="Cooldown"/>: not again for the same conversation within this time.
/// </summary>
public sealed record RouteSpec(
    string Id,
    int Priority,
    IReadOnlyList<string> On,
    RouteCondition? When,
    IReadOnlyList<ExtractSpec> Extract,
    IReadOnlyList<StepSpec> Actions,
    TimeSpan? Timeout,
    RetrySpec? Retry,
    bool Continue,
    string? OncePer,
    TimeSpan? Cooldown,
    int Line);

/// <summary>A condition over one event (<c>when</c>, the <c>match</c> shorthand, intents). Pure and fast: no I/O.</summary>
public abstract class RouteCondition
{
    public abstract bool Evaluate(RoutingEvent routingEvent, RoutingFacts facts);
}

/// <summary>What conditions may ask beyond the event itself, supplied by the caller (no I/O during evaluation).</summary>
public sealed record RoutingFacts(DateTimeOffset Now, Func<string, DateTimeOffset, bool>? IsWithinBusinessHours = null)
{
    /// <summary>Facts with no inbox information: <c>business_hours</c> is then false.</summary>
    public static RoutingFacts At(DateTimeOffset now) => new(now);
}

/// <summary>One action of a route with its own limits. <see cref="Index"/>: 0-based position in the route.</summary>
public abstract record StepSpec(int Index, int Line)
{
    /// <summary>The action's name as written: <c>call</c>, <c>reply_template</c>, <c>assign</c>, <c>tag</c>, <c>priority</c>, <c>status</c>, <c>emit</c>, <c>plugin</c>.</summary>
    public abstract string Action { get; }

    /// <summary>One attempt's limit (null = the connector's, then the defaults').</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>This step's retries (null = the route's, then the defaults').</summary>
    public RetrySpec? Retry { get; init; }

    public OnError OnError { get; init; } = OnError.Stop;

    /// <summary>Short description for records: <c>ERP::updateOrder</c>, the team, the tag list, …</summary>
    public abstract string? Target { get; }
}

public sealed record CallStep(int Index, int Line, string Connector, string Operation) : StepSpec(Index, Line)
{
    public override string Action => "call";

    public override string Target => Connector + "::" + Operation;
}

public sealed record ReplyTemplateStep(int Index, int Line, Template Template) : StepSpec(Index, Line)
{
    public override string Action => "reply_template";

    public override string? Target => null;
}

/// <summary>To a team's queue (through the dispatcher) or to one agent.</summary>
public sealed record AssignStep(int Index, int Line, string? Team, string? Agent) : StepSpec(Index, Line)
{
    public override string Action => "assign";

    public override string? Target => Team is not null ? "team:" + Team : "agent:" + Agent;
}

/// <summary>Adds tags (keeps the ones there).</summary>
public sealed record TagStep(int Index, int Line, IReadOnlyList<string> Tags) : StepSpec(Index, Line)
{
    public override string Action => "tag";

    public override string Target => string.Join(',', Tags);
}

public sealed record PriorityStep(int Index, int Line, string Priority) : StepSpec(Index, Line)
{
    public override string Action => "priority";

    public override string Target => Priority;
}

public sealed record StatusStep(int Index, int Line, string Status) : StepSpec(Index, Line)
{
    public override string Action => "status";

    public override string Target => Status;
}

/// <summary>Emits <c>custom.*</c> event <see cref="Type"/> with data built from templates (values rendered as strings).</summary>
public sealed record EmitStep(int Index, int Line, string Type, IReadOnlyDictionary<string, Template> Data) : StepSpec(Index, Line)
{
    public override string Action => "emit";

    public override string Target => Type;
}

/// <summary>
/// Runs the tenant's plugin <see cref="Plugin"/> (docs/plugins.md "Where plugins run") with the event and the route's
/// values, then applies what it asked for; its <c>set</c> values are <c>{plugin.&lt;name&gt;}</c> for later steps. Never
/// retried: a plugin is deterministic, the same input fails the same way.
/// </summary>
public sealed record PluginStep(int Index, int Line, string Plugin) : StepSpec(Index, Line)
{
    public override string Action => "plugin";

    public override string Target => Plugin;
}
