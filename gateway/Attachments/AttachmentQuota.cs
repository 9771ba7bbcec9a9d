using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Attachments;

namespace Kefu.Gateway.Attachments;

/// <summary>
/// Reserves one upload's bytes against the conversation's quota, then the tenant's, before the file is written; gives
/// them back when either refuses or the write fails. The counters are grains (<see cref="IAttachmentUsageGrain"/>), so
/// every gateway of a cluster counts against the same numbers.
/// </summary>
public sealed class AttachmentQuota(IGrainFactory grains, string tenant, string conversationId, long bytes)
{
    private readonly IAttachmentUsageGrain _conversation = grains.GetGrain<IAttachmentUsageGrain>(Tenancy.Key(tenant, conversationId));
    private readonly IAttachmentUsageGrain _tenant = grains.GetGrain<IAttachmentUsageGrain>(Tenancy.Key(tenant, AttachmentUsage.TenantScope));

    /// <summary>Null when reserved; else why not (the problem's detail).</summary>
    public async Task<string?> TryReserveAsync(AttachmentOptions limits)
    {
        if (!await _conversation.TryReserve(bytes, limits.MaxBytesPerConversation))
        {
            return $"This conversation has reached its attachment quota of {limits.MaxBytesPerConversation} bytes.";
        }

        if (!await _tenant.TryReserve(bytes, limits.MaxBytesPerTenant))
        {
            await _conversation.Release(bytes);
            return "The attachment storage quota of this service is used up.";
        }

        return null;
    }

    public async Task ReleaseAsync()
    {
        await _conversation.Release(bytes);
        await _tenant.Release(bytes);
    }
}
