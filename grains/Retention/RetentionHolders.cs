using Kefu.Grains.DataProtection;
using Kefu.Grains.Storage;

namespace Kefu.Grains.Retention;

/// <summary>Messages older than the tenant's message cutoff (no default: without a policy messages are kept).</summary>
public sealed class MessageRetentionHolder(IMessageStore store) : IRetentionHolder
{
    public string Name => "messages";

    public async Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken) =>
        cutoffs.MessagesBefore is { } before ? await store.PruneAsync(tenant, before, limit, cancellationToken) : 0;
}

/// <summary>Events older than the tenant's event cutoff, in the store under the <c>IEventLog</c> decorators.</summary>
public sealed class EventRetentionHolder(ITenantEventPruning log) : IRetentionHolder
{
    public string Name => "events";

    public Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken) =>
        cutoffs.EventsBefore is { } before ? log.PruneTenantAsync(tenant, before, limit, cancellationToken) : Task.FromResult(0);
}
