using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Attachments;

/// <summary>
/// One step of the retention job: deletes every attachment older than <c>Kefu:Attachments:RetentionDays</c>, gives
/// its bytes back to the conversation's and the tenant's usage counters, and removes leftovers of interrupted uploads.
/// The reminder of <see cref="AttachmentRetentionGrain"/> runs it; tests call <see cref="SweepAsync"/> directly.
/// </summary>
public sealed partial class AttachmentRetention(
    IAttachmentStore store, IGrainFactory grains, IOptions<AttachmentOptions> options, ILogger<AttachmentRetention> logger)
{
    /// <summary>Interrupted uploads older than this are leftovers (an upload in progress is never that old).</summary>
    private static readonly TimeSpan LeftoverAge = TimeSpan.FromDays(1);

    public async Task<int> SweepAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var days = options.Value.RetentionDays;
        if (days <= 0)
        {
            return 0;
        }

        var cutoff = now - TimeSpan.FromDays(days);
        var released = new Dictionary<string, long>(StringComparer.Ordinal);
        var deleted = 0;
        await foreach (var info in store.ListAsync(cutoff, cancellationToken))
        {
            if (!await store.DeleteAsync(info.AttachmentId, cancellationToken))
            {
                continue;
            }

            deleted++;
            foreach (var key in new[] { Tenancy.Key(info.Tenant, info.ConversationId), Tenancy.Key(info.Tenant, AttachmentUsage.TenantScope) })
            {
                released[key] = released.GetValueOrDefault(key) + info.Size;
            }
        }

        // One call per counter, not per file.
        foreach (var (key, bytes) in released)
        {
            await grains.GetGrain<IAttachmentUsageGrain>(key).Release(bytes);
        }

        var leftovers = await store.DeleteLeftoversAsync(now - LeftoverAge, cancellationToken);
        if (deleted > 0 || leftovers > 0)
        {
            LogSwept(logger, deleted, days, leftovers);
        }

        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Attachment retention: deleted {Deleted} attachments older than {Days} days and {Leftovers} leftovers of interrupted uploads.")]
    private static partial void LogSwept(ILogger logger, int deleted, int days, int leftovers);
}
