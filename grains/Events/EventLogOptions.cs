namespace Kefu.Grains.Events;

/// <summary>Configuration section <c>Kefu:Events</c>.</summary>
public sealed class EventLogOptions
{
    public const string Section = "Kefu:Events";

    /// <summary>How long events stay readable (events API, replay). Older ones are pruned.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Cluster mode: how often each silo deletes events older than <see cref="Retention"/>.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Cluster mode: events one DELETE removes. Small, so a chunk holds its locks and the purge thread only briefly.</summary>
    public int PruneChunk { get; set; } = 1000;

    /// <summary>Cluster mode: pause between chunks, so a large backlog is deleted without crowding out the writes.</summary>
    public TimeSpan PrunePause { get; set; } = TimeSpan.FromMilliseconds(50);
}
