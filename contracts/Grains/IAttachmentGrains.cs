namespace Kefu.Contracts.Grains;

/// <summary>
/// Stored attachment bytes of one scope, keyed <c>{tenant}/{conversationId}</c> for a conversation and
/// <c>{tenant}/tenant</c> (<see cref="AttachmentUsage.TenantScope"/>) for the whole tenant. The counter lives in grain
/// state, so in cluster mode every gateway sees one number and it survives restarts.
/// </summary>
public interface IAttachmentUsageGrain : IGrainWithStringKey
{
    /// <summary>Adds <paramref name="bytes"/> unless that would exceed <paramref name="limit"/> (0 = no limit); false when refused.</summary>
    Task<bool> TryReserve(long bytes, long limit);

    /// <summary>Gives bytes back: a failed upload, or attachments deleted by the retention job.</summary>
    Task Release(long bytes);

    [AlwaysInterleave]
    Task<long> GetUsedBytes();
}

/// <summary>The cluster's one attachment retention job (key 0): an Orleans reminder that deletes expired attachments.</summary>
public interface IAttachmentRetentionGrain : IGrainWithIntegerKey
{
    /// <summary>Registers (or updates) the reminder; every gateway calls it at start, it is idempotent.</summary>
    Task Start(TimeSpan interval);

    /// <summary>Removes the reminder (retention switched off).</summary>
    Task Stop();
}

public static class AttachmentUsage
{
    /// <summary>The id part of the tenant-wide usage grain's key (conversation ids are ULIDs, so it cannot clash).</summary>
    public const string TenantScope = "tenant";
}
