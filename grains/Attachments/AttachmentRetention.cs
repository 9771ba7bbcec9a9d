using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Attachments;

/// <summary>
/// Attachments' part of the retention job (grains/Retention): as an <see cref="IRetentionHolder"/> it deletes one
/// tenant's attachments older than its policy's cutoff; <see cref="SweepAsync(DateTimeOffset, IReadOnlySet{string}, CancellationToken)"/>
/// applies the default <c>Kefu:Attachments:RetentionDays</c> to every other tenant and removes leftovers of
/// interrupted uploads. Either way a deleted attachment's bytes are given back to the conversation's and the tenant's
/// usage counters, one call per counter.
/// </summary>
public sealed partial class AttachmentRetention(
    IAttachmentStore store, IGrainFactory grains, IOptions<AttachmentOptions> options, ILogger<AttachmentRetention> logger) : IRetentionHolder
{
    public const string HolderName = "attachments";

    /// <summary>Interrupted uploads older than this are leftovers (an upload in progress is never that old).</summary>
    private static readonly TimeSpan LeftoverAge = TimeSpan.FromDays(1);

    public string Name => HolderName;

    public async Task<int> PruneAsync(string tenant, RetentionCutoffs cutoffs, int limit, CancellationToken cancellationToken)
    {
        if (cutoffs.AttachmentsBefore is not { } before || limit <= 0)
        {
            return 0;
        }

        return await DeleteAsync(before, info => string.Equals(info.Tenant, tenant, StringComparison.Ordinal), limit, cancellationToken);
    }

    /// <summary>The default retention for every tenant (the path the existing tests and the gateway's sweep use).</summary>
    public Task<int> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        SweepAsync(now, new HashSet<string>(StringComparer.Ordinal), cancellationToken);

    /// <summary>Deletes attachments older than the default retention, except those of <paramref name="ownPolicy"/>'s tenants, and leftovers.</summary>
    public async Task<int> SweepAsync(DateTimeOffset now, IReadOnlySet<string> ownPolicy, CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        var deleted = 0;
        if (days > 0)
        {
            deleted = await DeleteAsync(now - TimeSpan.FromDays(days), info => !ownPolicy.Contains(info.Tenant), int.MaxValue, cancellationToken);
        }

        var leftovers = await store.DeleteLeftoversAsync(now - LeftoverAge, cancellationToken);
        if (deleted > 0 || leftovers > 0)
        {
            LogSwept(logger, deleted, days, leftovers);
        }

        return deleted;
    }

    private async Task<int> DeleteAsync(DateTimeOffset before, Func<AttachmentInfo, bool> applies, int limit, CancellationToken cancellationToken)
    {
        var released = new Dictionary<string, long>(StringComparer.Ordinal);
        var deleted = 0;
        try
        {
            await foreach (var info in store.ListAsync(before, cancellationToken))
            {
                if (deleted >= limit)
                {
                    break;
                }

                if (!applies(info) || !await store.DeleteAsync(info.AttachmentId, cancellationToken))
                {
                    continue;
                }

                deleted++;
                foreach (var key in new[] { Tenancy.Key(info.Tenant, info.ConversationId), Tenancy.Key(info.Tenant, AttachmentUsage.TenantScope) })
                {
                    released[key] = released.GetValueOrDefault(key) + info.Size;
                }
            }
        }
        finally
        {
            // One call per counter, not per file; also after a failure, for what was deleted before it.
            foreach (var (key, bytes) in released)
            {
                await grains.GetGrain<IAttachmentUsageGrain>(key).Release(bytes);
            }
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Attachment retention: deleted {Deleted} attachments older than {Days} days (tenants without a policy of their own) and {Leftovers} leftovers of interrupted uploads.")]
    private static partial void LogSwept(ILogger logger, int deleted, int days, int leftovers);
}
