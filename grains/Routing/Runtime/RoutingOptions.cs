using Kefu.Contracts.Identity;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>Configuration of the routing runtime (<c>Kefu:Routing</c>, README "Configuration").</summary>
public sealed class RoutingOptions
{
    public const string Section = "Kefu:Routing";

    /// <summary>The rules file, relative to the working directory; loaded at start and on change. Missing: nothing is loaded.</summary>
    public string File { get; set; } = "config/routing.yaml";

    /// <summary>The tenant the file's rules are for.</summary>
    public string Tenant { get; set; } = Tenancy.DefaultTenant;

    /// <summary>How often a router looks for events nobody woke it for (committed on another silo).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Events read from the log at once.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>Events whose routes run at the same time per tenant; the router reads no further while this many run.</summary>
    public int MaxInFlight { get; set; } = 64;

    /// <summary>Executions the tenant's execution log keeps (the event log keeps all route.executed events).</summary>
    public int ExecutionLogSize { get; set; } = 500;

    /// <summary>The name rule replies are sent under (null: the route's id).</summary>
    public string? BotName { get; set; }

    /// <summary>Connector secrets by reference (<c>auth.secret</c> in the file): <c>Kefu:Routing:Secrets:{ref}</c>. Never logged.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);
}
