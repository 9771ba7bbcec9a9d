using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kefu.Storage.Tests.AttachmentStore;

/// <summary>
/// A real HTTP server on loopback that answers the few S3 calls the attachment store makes, path-style
/// (<c>/{bucket}/{key}</c>): PUT, GET, HEAD and DELETE of an object. It records each request's method, path and whether
/// it carried a SigV4 signature with the expected access key, and decodes an aws-chunked body should a client send one.
/// </summary>
internal sealed class FakeS3Server : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public FakeS3Server()
    {
        var port = FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Endpoint { get; }

    public ConcurrentDictionary<string, byte[]> Objects { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<(string Method, string Path, string? Authorization)> Requests { get; } = new();

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                await HandleAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The client went away.
            }
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Requests.Enqueue((request.HttpMethod, path, request.Headers["Authorization"]));
        switch (request.HttpMethod)
        {
            case "PUT":
                using (var body = new MemoryStream())
                {
                    await request.InputStream.CopyToAsync(body);
                    var bytes = body.ToArray();
                    var sha = request.Headers["x-amz-content-sha256"] ?? string.Empty;
                    if (sha.StartsWith("STREAMING", StringComparison.Ordinal) || (request.Headers["Content-Encoding"] ?? string.Empty).Contains("aws-chunked", StringComparison.Ordinal))
                    {
                        bytes = DecodeChunked(bytes);
                    }

                    Objects[path] = bytes;
                    response.Headers["ETag"] = ETag(bytes);
                }

                response.StatusCode = 200;
                break;
            case "GET" or "HEAD" when Objects.TryGetValue(path, out var stored):
                response.StatusCode = 200;
                response.ContentType = "application/octet-stream";
                response.ContentLength64 = stored.Length;
                response.Headers["ETag"] = ETag(stored);
                if (request.HttpMethod == "GET")
                {
                    await response.OutputStream.WriteAsync(stored);
                }

                break;
            case "GET" or "HEAD":
                response.StatusCode = 404;
                if (request.HttpMethod == "GET")
                {
                    var error = Encoding.UTF8.GetBytes(
                        $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{path}</Key></Error>");
                    response.ContentType = "application/xml";
                    response.ContentLength64 = error.Length;
                    await response.OutputStream.WriteAsync(error);
                }

                break;
            case "DELETE":
                Objects.TryRemove(path, out _);
                response.StatusCode = 204;
                break;
            default:
                response.StatusCode = 405;
                break;
        }

        response.Close();
    }

    /// <summary>aws-chunked: <c>{hex size};chunk-signature=…\r\n{bytes}\r\n</c> … a zero-size chunk, then optional trailers.</summary>
    private static byte[] DecodeChunked(byte[] body)
    {
        using var output = new MemoryStream();
        var position = 0;
        while (position < body.Length)
        {
            var lineEnd = Array.IndexOf(body, (byte)'\n', position);
            var header = Encoding.ASCII.GetString(body, position, lineEnd - position).TrimEnd('\r');
            var size = Convert.ToInt32(header.Split(';')[0], 16);
            position = lineEnd + 1;
            if (size == 0)
            {
                break;
            }

            output.Write(body, position, size);
            position += size + 2;
        }

        return output.ToArray();
    }

    /// <summary>S3's ETag of a single-part object: the hex MD5 of its bytes, quoted (clients check it).</summary>
    private static string ETag(byte[] bytes) => "\"" + Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes)) + "\"";

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
