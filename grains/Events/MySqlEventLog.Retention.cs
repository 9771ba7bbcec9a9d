namespace Kefu.Grains.Events;

/// <summary>A tenant's retention policy (issue #20): its events older than the policy's cutoff, one chunk per call.</summary>
public sealed partial class MySqlEventLog : Retention.ITenantEventPruning
{
    /// <summary>
    /// Deletes at most <paramref name="limit"/> of the tenant's oldest events created before <paramref name="before"/>,
    /// the same way as the global retention (a prefix of cursors, <c>kefu_event_pruned</c> marked first so a reader
    /// behind it learns its cursor expired); returns how many.
    /// </summary>
    public async Task<int> PruneTenantAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken)
    {
        var (through, _) = await OldPrefixAsync(tenant, before.UtcDateTime, limit, cancellationToken).ConfigureAwait(false);
        return through is { } boundary ? (int)await DeleteThroughAsync(tenant, boundary, cancellationToken).ConfigureAwait(false) : 0;
    }
}
