using System.Text.Json;
using System.Threading.Channels;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// The export's <see cref="IPersonalDataExportWriter"/> on the silo: turns each file into <see cref="ExportChunk"/>s of
/// at most <see cref="ChunkSize"/> bytes on a bounded channel, so a large export is never held whole in memory (the
/// writer waits while the gateway is behind). JSON is serialized straight into the chunks.
/// </summary>
public sealed class ExportChunkWriter(ChannelWriter<ExportChunk> output) : IPersonalDataExportWriter
{
    public const int ChunkSize = 64 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public async Task WriteJsonAsync<T>(string path, T value, CancellationToken cancellationToken)
    {
        await using var stream = new ChunkStream(output, path);
        await JsonSerializer.SerializeAsync(stream, value, Json, cancellationToken);
        await stream.FinishAsync(cancellationToken);
    }

    public async Task WriteFileAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        await using var stream = new ChunkStream(output, path);
        await content.CopyToAsync(stream, ChunkSize, cancellationToken);
        await stream.FinishAsync(cancellationToken);
    }

    /// <summary>A write-only stream that sends its bytes on as chunks; the first chunk names the file.</summary>
    private sealed class ChunkStream(ChannelWriter<ExportChunk> output, string path) : Stream
    {
        private readonly MemoryStream _buffer = new();
        private bool _started;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("The export is written asynchronously.");

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                var take = (int)Math.Min(buffer.Length, ChunkSize - _buffer.Length);
                _buffer.Write(buffer.Span[..take]);
                buffer = buffer[take..];
                if (_buffer.Length == ChunkSize)
                {
                    await SendAsync(cancellationToken);
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>Sends what is left (and the file's name, for an empty file).</summary>
        public async Task FinishAsync(CancellationToken cancellationToken)
        {
            if (_buffer.Length > 0 || !_started)
            {
                await SendAsync(cancellationToken);
            }
        }

        private async Task SendAsync(CancellationToken cancellationToken)
        {
            await output.WriteAsync(new ExportChunk(_started ? null : path, _buffer.ToArray()), cancellationToken);
            _started = true;
            _buffer.SetLength(0);
        }
    }
}
