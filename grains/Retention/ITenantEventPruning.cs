namespace Kefu.Grains.Retention;

/// <summary>
/// An event log that can prune one tenant to a shorter horizon than the global <c>Kefu:Events:Retention</c> (which
/// every log already enforces by itself). Implemented by the stores, not by the <c>IEventLog</c> decorators (wake-ups,
/// routing), so the retention job talks to the store underneath them.
/// </summary>
public interface ITenantEventPruning
{
    /// <summary>Deletes at most <paramref name="limit"/> of the tenant's events created before <paramref name="before"/>; returns how many.</summary>
    Task<int> PruneTenantAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken);
}
