namespace Kefu.Grains.Attachments;

/// <summary>
/// <c>Kefu:Attachments:Store = s3</c>: metadata in MySQL (<c>kefu_attachment</c>, like <see cref="MySqlAttachmentStore"/>),
/// bytes in an S3-compatible bucket (<see cref="S3AttachmentBytes"/>). Listing, retention and leftovers work on the
/// metadata, so no bucket listing is ever needed.
/// </summary>
public sealed class S3AttachmentStore : IAttachmentStore, IDisposable
{
    private readonly S3AttachmentBytes _bytes;

    public S3AttachmentStore(string connectionString, S3AttachmentOptions options)
    {
        _bytes = new S3AttachmentBytes(options);
        Store = new MySqlAttachmentStore(connectionString, _bytes);
    }

    private MySqlAttachmentStore Store { get; }

    public string? Directory => null;

    public Task SaveAsync(AttachmentInfo info, Stream content, CancellationToken cancellationToken) => Store.SaveAsync(info, content, cancellationToken);

    public Task<AttachmentInfo?> GetInfoAsync(string attachmentId, CancellationToken cancellationToken) => Store.GetInfoAsync(attachmentId, cancellationToken);

    public Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken) => Store.OpenReadAsync(attachmentId, cancellationToken);

    public IAsyncEnumerable<AttachmentInfo> ListAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken) => Store.ListAsync(createdBefore, cancellationToken);

    public IAsyncEnumerable<AttachmentInfo> ListByConversationAsync(string tenant, string conversationId, CancellationToken cancellationToken) =>
        Store.ListByConversationAsync(tenant, conversationId, cancellationToken);

    public Task<bool> DeleteAsync(string attachmentId, CancellationToken cancellationToken) => Store.DeleteAsync(attachmentId, cancellationToken);

    public Task<int> DeleteLeftoversAsync(DateTimeOffset before, CancellationToken cancellationToken) => Store.DeleteLeftoversAsync(before, cancellationToken);

    public void Dispose() => _bytes.Dispose();
}
