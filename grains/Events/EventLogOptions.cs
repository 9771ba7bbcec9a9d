namespace Kefu.Grains.Events;

/// <summary>Configuration section <c>Kefu:Events</c>.</summary>
public sealed class EventLogOptions
{
    public const string Section = "Kefu:Events";

    /// <summary>How long events stay readable (events API, replay). Older ones are pruned.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);
}
