using System.Runtime.CompilerServices;
using MySqlConnector;

namespace Kefu.Grains.Attachments;

/// <summary>
/// Attachments for a cluster (deploy/mysql/015): metadata in <c>kefu_attachment</c> (indexed by (tenant, conversation)
/// and by creation time), bytes through <see cref="IAttachmentBytes"/> — chunk rows of <c>kefu_attachment_chunk</c>
/// (<see cref="MySqlChunkBytes"/>) or an S3 bucket (<see cref="S3AttachmentBytes"/>). Every gateway and silo sees the
/// same attachments without a shared file system. A save writes the row first as incomplete, then the bytes, then marks
/// it complete: an interrupted upload leaves an incomplete row that <see cref="DeleteLeftoversAsync"/> finds (with its
/// bytes), never bytes nobody can find. Readers see only complete rows.
/// </summary>
public sealed class MySqlAttachmentStore(string connectionString, IAttachmentBytes bytes) : IAttachmentStore
{
    private const string Columns = "attachment_id, tenant, conversation_id, name, content_type, size, uploader_role, uploader_id, created_at";

    /// <summary>Rows one listing query reads; the listing pages by (created_at, id), so the caller may delete as it goes.</summary>
    private const int ListPage = 500;

    public MySqlAttachmentStore(string connectionString, int chunkBytes)
        : this(connectionString, new MySqlChunkBytes(connectionString, chunkBytes))
    {
    }

    /// <summary>The bytes are not on a local disk: no free-space check applies.</summary>
    public string? Directory => null;

    public async Task SaveAsync(AttachmentInfo info, Stream content, CancellationToken cancellationToken)
    {
        var id = CheckedId(info.AttachmentId);
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var insert = new MySqlCommand(
            "INSERT INTO kefu_attachment (" + Columns + ", storage, complete) VALUES (@id, @tenant, @conversation, @name, @type, @size, @role, @uploader, @created, @storage, 0)",
            connection))
        {
            insert.Parameters.AddWithValue("@id", id);
            insert.Parameters.AddWithValue("@tenant", info.Tenant);
            insert.Parameters.AddWithValue("@conversation", info.ConversationId);
            insert.Parameters.AddWithValue("@name", info.Name);
            insert.Parameters.AddWithValue("@type", info.ContentType);
            insert.Parameters.AddWithValue("@size", info.Size);
            insert.Parameters.AddWithValue("@role", info.UploaderRole);
            insert.Parameters.AddWithValue("@uploader", info.UploaderId);
            insert.Parameters.AddWithValue("@created", info.CreatedAt.UtcDateTime);
            insert.Parameters.AddWithValue("@storage", bytes.Storage);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await bytes.WriteAsync(id, content, cancellationToken);
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var complete = new MySqlCommand("UPDATE kefu_attachment SET complete = 1 WHERE attachment_id = @id", connection))
        {
            complete.Parameters.AddWithValue("@id", id);
            await complete.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<AttachmentInfo?> GetInfoAsync(string attachmentId, CancellationToken cancellationToken)
    {
        if (!TryId(attachmentId, out var id))
        {
            return null;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("SELECT " + Columns + " FROM kefu_attachment WHERE attachment_id = @id AND complete = 1", connection);
        command.Parameters.AddWithValue("@id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken) =>
        await GetInfoAsync(attachmentId, cancellationToken) is { } info ? await bytes.OpenReadAsync(info.AttachmentId, cancellationToken) : null;

    public IAsyncEnumerable<AttachmentInfo> ListAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken) =>
        PagesAsync("created_at < @before", c => c.Parameters.AddWithValue("@before", createdBefore.UtcDateTime), cancellationToken);

    public IAsyncEnumerable<AttachmentInfo> ListByConversationAsync(string tenant, string conversationId, CancellationToken cancellationToken) =>
        PagesAsync("tenant = @tenant AND conversation_id = @conversation", c =>
        {
            c.Parameters.AddWithValue("@tenant", tenant);
            c.Parameters.AddWithValue("@conversation", conversationId);
        }, cancellationToken);

    public async Task<bool> DeleteAsync(string attachmentId, CancellationToken cancellationToken)
    {
        if (!TryId(attachmentId, out var id))
        {
            return false;
        }

        // Bytes first: a failure in between leaves a row whose bytes are gone (read as not found, deleted again by a
        // retry), never bytes without a row.
        await bytes.DeleteAsync(id, cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = new MySqlCommand("DELETE FROM kefu_attachment WHERE attachment_id = @id", connection);
        command.Parameters.AddWithValue("@id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<int> DeleteLeftoversAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await using (var connection = await OpenAsync(cancellationToken))
        await using (var command = new MySqlCommand(
            "SELECT attachment_id FROM kefu_attachment WHERE complete = 0 AND created_at < @before AND storage = @storage LIMIT 1000", connection))
        {
            command.Parameters.AddWithValue("@before", before.UtcDateTime);
            command.Parameters.AddWithValue("@storage", bytes.Storage);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetString(0));
            }
        }

        var deleted = 0;
        foreach (var id in ids)
        {
            deleted += await DeleteAsync(id, cancellationToken) ? 1 : 0;
        }

        return deleted;
    }

    private async IAsyncEnumerable<AttachmentInfo> PagesAsync(
        string where, Action<MySqlCommand> bind, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = (Created: DateTime.MinValue, Id: string.Empty);
        while (true)
        {
            var page = new List<AttachmentInfo>(ListPage);
            await using (var connection = await OpenAsync(cancellationToken))
            await using (var command = new MySqlCommand(
                "SELECT " + Columns + " FROM kefu_attachment WHERE complete = 1 AND " + where +
                " AND (created_at, attachment_id) > (@afterCreated, @afterId) ORDER BY created_at, attachment_id LIMIT @page", connection))
            {
                bind(command);
                command.Parameters.AddWithValue("@afterCreated", after.Created);
                command.Parameters.AddWithValue("@afterId", after.Id);
                command.Parameters.AddWithValue("@page", ListPage);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add(Read(reader));
                }
            }

            foreach (var info in page)
            {
                yield return info;
            }

            if (page.Count < ListPage)
            {
                yield break;
            }

            after = (page[^1].CreatedAt.UtcDateTime, page[^1].AttachmentId);
        }
    }

    private static AttachmentInfo Read(MySqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5),
        reader.GetString(6), reader.GetString(7), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(8), DateTimeKind.Utc)));

    private static string CheckedId(string attachmentId) =>
        TryId(attachmentId, out var id) ? id : throw new ArgumentException("Not a ULID.", nameof(attachmentId));

    private static bool TryId(string attachmentId, out string id)
    {
        var ok = Ulid.TryParse(attachmentId, out var ulid);
        id = ok ? ulid.ToString() : string.Empty;
        return ok;
    }

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
