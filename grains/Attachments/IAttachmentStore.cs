namespace Kefu.Grains.Attachments;

/// <summary>What is known about a stored attachment besides its bytes.</summary>
public sealed record AttachmentInfo(
    string AttachmentId,
    string Tenant,
    string ConversationId,
    string Name,
    string ContentType,
    long Size,
    string UploaderRole,
    string UploaderId,
    DateTimeOffset CreatedAt);

/// <summary>
/// Where attachment bytes and their metadata live. The default is a directory (<see cref="DiskAttachmentStore"/>); a
/// cluster without a shared file system keeps them in MySQL or an S3-compatible store behind this same interface.
/// </summary>
public interface IAttachmentStore
{
    /// <summary>The local directory the store writes to (for the free-space check); null when the bytes are not on a local disk.</summary>
    string? Directory { get; }

    /// <summary>Stores the bytes in <paramref name="content"/> (already checked) under <paramref name="info"/>'s id.</summary>
    Task SaveAsync(AttachmentInfo info, Stream content, CancellationToken cancellationToken);

    /// <summary>The metadata, or null when no attachment has this id.</summary>
    Task<AttachmentInfo?> GetInfoAsync(string attachmentId, CancellationToken cancellationToken);

    /// <summary>Opens the bytes for reading; null when they are gone.</summary>
    Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken);

    /// <summary>
    /// The metadata of stored attachments created before <paramref name="createdBefore"/> (for the retention job);
    /// unreadable entries are skipped. Ids are ULIDs made at upload, so younger ones are skipped by name, unread.
    /// </summary>
    IAsyncEnumerable<AttachmentInfo> ListAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken);

    /// <summary>The metadata of one conversation's attachments, oldest first (export and erasure of a contact's data).</summary>
    IAsyncEnumerable<AttachmentInfo> ListByConversationAsync(string tenant, string conversationId, CancellationToken cancellationToken);

    /// <summary>Deletes the bytes and the metadata; true when something was deleted.</summary>
    Task<bool> DeleteAsync(string attachmentId, CancellationToken cancellationToken);

    /// <summary>Removes leftovers of interrupted uploads (temporary files, bytes without metadata) older than <paramref name="before"/>.</summary>
    Task<int> DeleteLeftoversAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>Free space of the disk holding a directory; injectable so tests can simulate a nearly full disk.</summary>
public interface IFreeDiskSpace
{
    /// <summary>Bytes available to this process on the disk of <paramref name="directory"/>; null when unknown.</summary>
    long? AvailableBytes(string directory);
}

public sealed class DriveFreeDiskSpace : IFreeDiskSpace
{
    public long? AvailableBytes(string directory)
    {
        try
        {
            return new DriveInfo(directory).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
