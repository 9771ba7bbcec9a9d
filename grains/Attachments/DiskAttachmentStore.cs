using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Kefu.Grains.Attachments;

/// <summary>
/// Attachments as files in one directory: <c>{ulid}.bin</c> (the bytes) and <c>{ulid}.json</c> (the metadata). The
/// bytes are written to a temporary file and moved into place before the metadata, so an attachment is either whole
/// or absent. Several gateways (and the silos' retention job) can share the directory (a network file system): names
/// are ULIDs, nothing is updated in place.
/// </summary>
public sealed class DiskAttachmentStore : IAttachmentStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly string _directory;

    public DiskAttachmentStore(string directory)
    {
        _directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(_directory);
    }

    public string? Directory => _directory;

    public async Task SaveAsync(AttachmentInfo info, Stream content, CancellationToken cancellationToken)
    {
        var id = CheckedId(info.AttachmentId);
        var temporary = Path.Combine(_directory, $"{id}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await content.CopyToAsync(file, cancellationToken);
            }

            File.Move(temporary, BytesPath(id));
            var metadata = Path.Combine(_directory, $"{id}.json.{Guid.NewGuid():N}.tmp");
            await File.WriteAllBytesAsync(metadata, JsonSerializer.SerializeToUtf8Bytes(info, Json), cancellationToken);
            File.Move(metadata, InfoPath(id));
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public async Task<AttachmentInfo?> GetInfoAsync(string attachmentId, CancellationToken cancellationToken)
    {
        if (!Ulid.TryParse(attachmentId, out _))
        {
            return null;
        }

        return await ReadInfoAsync(InfoPath(CheckedId(attachmentId)), cancellationToken);
    }

    public Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(BytesPath(CheckedId(attachmentId)), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public async IAsyncEnumerable<AttachmentInfo> ListAsync(DateTimeOffset createdBefore, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var path in System.IO.Directory.EnumerateFiles(_directory, "*.json"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Ulid.TryParse(Path.GetFileNameWithoutExtension(path), out var id) && id.Time < createdBefore
                && await ReadInfoAsync(path, cancellationToken) is { } info && info.CreatedAt < createdBefore)
            {
                yield return info;
            }
        }
    }

    /// <summary>A scan of every metadata file: fine for the single-server directory, which is what this store is for.</summary>
    public async IAsyncEnumerable<AttachmentInfo> ListByConversationAsync(string tenant, string conversationId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var found = new List<AttachmentInfo>();
        foreach (var path in System.IO.Directory.EnumerateFiles(_directory, "*.json"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Ulid.TryParse(Path.GetFileNameWithoutExtension(path), out _)
                && await ReadInfoAsync(path, cancellationToken) is { } info && info.Tenant == tenant && info.ConversationId == conversationId)
            {
                found.Add(info);
            }
        }

        foreach (var info in found.OrderBy(i => i.AttachmentId, StringComparer.Ordinal))
        {
            yield return info;
        }
    }

    public Task<bool> DeleteAsync(string attachmentId, CancellationToken cancellationToken)
    {
        var id = CheckedId(attachmentId);
        var existed = File.Exists(InfoPath(id));
        // Metadata first: from then on the attachment is absent (404), the bytes are only a leftover.
        File.Delete(InfoPath(id));
        File.Delete(BytesPath(id));
        return Task.FromResult(existed);
    }

    public Task<int> DeleteLeftoversAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var deleted = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(_directory))
        {
            var name = Path.GetFileName(path);
            var leftover = name.EndsWith(".tmp", StringComparison.Ordinal)
                || (name.EndsWith(".bin", StringComparison.Ordinal) && !File.Exists(Path.ChangeExtension(path, ".json")));
            if (leftover && File.GetLastWriteTimeUtc(path) < before.UtcDateTime)
            {
                File.Delete(path);
                deleted++;
            }
        }

        return Task.FromResult(deleted);
    }

    private static async Task<AttachmentInfo?> ReadInfoAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<AttachmentInfo>(file, Json, cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Only canonical ULIDs become file names (no path characters can reach the file system).</summary>
    private static string CheckedId(string attachmentId) =>
        Ulid.TryParse(attachmentId, out var ulid) ? ulid.ToString() : throw new ArgumentException("Not a ULID.", nameof(attachmentId));

    private string BytesPath(string id) => Path.Combine(_directory, id + ".bin");

    private string InfoPath(string id) => Path.Combine(_directory, id + ".json");
}
