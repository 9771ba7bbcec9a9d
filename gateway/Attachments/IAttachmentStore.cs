namespace Kefu.Gateway.Attachments;

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

/// <summary>Where attachment bytes and their metadata live. The default is a directory (<see cref="DiskAttachmentStore"/>).</summary>
public interface IAttachmentStore
{
    /// <summary>Stores the bytes in <paramref name="content"/> (already checked) under <paramref name="info"/>'s id.</summary>
    Task SaveAsync(AttachmentInfo info, Stream content, CancellationToken cancellationToken);

    /// <summary>The metadata, or null when no attachment has this id.</summary>
    Task<AttachmentInfo?> GetInfoAsync(string attachmentId, CancellationToken cancellationToken);

    /// <summary>Opens the bytes for reading; null when they are gone.</summary>
    Stream? OpenRead(string attachmentId);
}
