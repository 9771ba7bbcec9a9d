namespace Kefu.Grains.Attachments;

/// <summary>
/// Where <see cref="MySqlAttachmentStore"/> keeps an attachment's bytes (its metadata is always a <c>kefu_attachment</c>
/// row): chunk rows in the same database, or an object in an S3-compatible bucket.
/// </summary>
public interface IAttachmentBytes
{
    /// <summary>The <c>kefu_attachment.storage</c> value of rows whose bytes live here (0 MySQL chunks, 1 S3).</summary>
    byte Storage { get; }

    Task WriteAsync(string attachmentId, Stream content, CancellationToken cancellationToken);

    /// <summary>The bytes, or null when there are none.</summary>
    Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken);

    /// <summary>Deletes the bytes; deleting what does not exist is not an error.</summary>
    Task DeleteAsync(string attachmentId, CancellationToken cancellationToken);
}
