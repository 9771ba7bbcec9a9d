namespace Kefu.Grains.Dispatch;

/// <summary>Bound from "Kefu:Dispatch": how long an agent's reported status holds and how often the dispatcher ticks.</summary>
public sealed class DispatchOptions
{
    public const string Section = "Kefu:Dispatch";

    /// <summary>
    /// An agent whose status was not reported for this long counts as offline. Agents report on every presence
    /// heartbeat (~10 s), so this tolerates a few lost heartbeats but never trusts a silent agent.
    /// </summary>
    public TimeSpan StatusExpiry { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How often unconfirmed assignments are re-sent and expired statuses dropped.</summary>
    public TimeSpan TickPeriod { get; set; } = TimeSpan.FromSeconds(5);
}
