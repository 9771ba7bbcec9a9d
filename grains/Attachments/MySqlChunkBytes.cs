using MySqlConnector;

namespace Kefu.Grains.Attachments;

/// <summary>
/// An attachment's bytes as <c>kefu_attachment_chunk</c> rows of at most <paramref name="chunkBytes"/> each: no row and
/// no statement comes near <c>max_allowed_packet</c>, and a download holds one chunk in memory at a time.
/// </summary>
public sealed class MySqlChunkBytes(string connectionString, int chunkBytes) : IAttachmentBytes
{
    public byte Storage => 0;

    public async Task WriteAsync(string attachmentId, Stream content, CancellationToken cancellationToken)
    {
        var buffer = new byte[chunkBytes];
        await using var connection = await OpenAsync(connectionString, cancellationToken);
        for (var chunk = 0; ; chunk++)
        {
            var filled = await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            if (filled == 0 && chunk > 0)
            {
                return;
            }

            await using var insert = new MySqlCommand(
                "INSERT INTO kefu_attachment_chunk (attachment_id, chunk_no, bytes) VALUES (@id, @chunk, @bytes)", connection);
            insert.Parameters.AddWithValue("@id", attachmentId);
            insert.Parameters.AddWithValue("@chunk", chunk);
            insert.Parameters.AddWithValue("@bytes", new ReadOnlyMemory<byte>(buffer, 0, filled));
            await insert.ExecuteNonQueryAsync(cancellationToken);
            if (filled < buffer.Length)
            {
                return;
            }
        }
    }

    public async Task<Stream?> OpenReadAsync(string attachmentId, CancellationToken cancellationToken)
    {
        var stream = new ChunkStream(connectionString, attachmentId);
        return await stream.LoadAsync(0, cancellationToken) ? stream : null;
    }

    public async Task DeleteAsync(string attachmentId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(connectionString, cancellationToken);
        await using var delete = new MySqlCommand("DELETE FROM kefu_attachment_chunk WHERE attachment_id = @id", connection);
        delete.Parameters.AddWithValue("@id", attachmentId);
        await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<MySqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
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

    /// <summary>Reads the chunks in order, one query per chunk, so neither side holds a whole file.</summary>
    private sealed class ChunkStream(string connectionString, string attachmentId) : Stream
    {
        private byte[] _chunk = [];
        private int _offset;
        private int _next;
        private bool _end;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Loads chunk <paramref name="chunkNo"/>; false when there is none.</summary>
        public async Task<bool> LoadAsync(int chunkNo, CancellationToken cancellationToken)
        {
            await using var connection = await OpenAsync(connectionString, cancellationToken);
            await using var select = new MySqlCommand(
                "SELECT bytes FROM kefu_attachment_chunk WHERE attachment_id = @id AND chunk_no = @chunk", connection);
            select.Parameters.AddWithValue("@id", attachmentId);
            select.Parameters.AddWithValue("@chunk", chunkNo);
            if (await select.ExecuteScalarAsync(cancellationToken) is not byte[] bytes)
            {
                _end = true;
                return false;
            }

            (_chunk, _offset, _next) = (bytes, 0, chunkNo + 1);
            return true;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (_offset == _chunk.Length)
            {
                if (_end || !await LoadAsync(_next, cancellationToken))
                {
                    return 0;
                }
            }

            var n = Math.Min(buffer.Length, _chunk.Length - _offset);
            _chunk.AsMemory(_offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
