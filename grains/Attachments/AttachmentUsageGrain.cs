using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Attachments;

[GenerateSerializer]
public sealed class AttachmentUsageState
{
    [Id(0)] public long Bytes { get; set; }
}

/// <summary>
/// One byte counter (a conversation's or a tenant's). Kept in grain state rather than derived from the directory at
/// start: with several gateways a per-process count would let each of them fill the quota, and scanning a large shared
/// directory on every start is slow. The retention job releases what it deletes, so the counter follows the disk.
/// </summary>
public sealed class AttachmentUsageGrain(
    [PersistentState("attachmentUsage", KefuStorage.Name)] IPersistentState<AttachmentUsageState> state) : Grain, IAttachmentUsageGrain
{
    public async Task<bool> TryReserve(long bytes, long limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (limit > 0 && state.State.Bytes + bytes > limit)
        {
            return false;
        }

        state.State.Bytes += bytes;
        await state.WriteStateAsync();
        return true;
    }

    public async Task Release(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        state.State.Bytes = Math.Max(0, state.State.Bytes - bytes);
        if (state.State.Bytes == 0)
        {
            // Nothing stored any more: no row to keep.
            await state.ClearStateAsync();
            DeactivateOnIdle();
        }
        else
        {
            await state.WriteStateAsync();
        }
    }

    public Task<long> GetUsedBytes() => Task.FromResult(state.State.Bytes);
}
