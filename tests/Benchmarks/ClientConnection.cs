using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Kefu.Benchmarks;

/// <summary>The fields of a server frame the benchmark looks at.</summary>
public readonly record struct IncomingFrame(string? Type, string? ClientMsgId, string? ConversationId, string? Text, string? Code, string? Message)
{
    public static IncomingFrame Parse(ReadOnlySpan<byte> json)
    {
        string? type = null, clientMsgId = null, conversationId = null, text = null, code = null, message = null;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                reader.Skip();
                continue;
            }

            if (name.SequenceEqual("type"u8))
            {
                type = reader.GetString();
            }
            else if (name.SequenceEqual("clientMsgId"u8))
            {
                clientMsgId = reader.GetString();
            }
            else if (name.SequenceEqual("conversationId"u8))
            {
                conversationId = reader.GetString();
            }
            else if (name.SequenceEqual("text"u8))
            {
                text = reader.GetString();
            }
            else if (name.SequenceEqual("code"u8))
            {
                code = reader.GetString();
            }
            else if (name.SequenceEqual("message"u8))
            {
                message = reader.GetString();
            }
        }

        return new IncomingFrame(type, clientMsgId, conversationId, text, code, message);
    }
}

/// <summary>One client WebSocket (kefu.v1.json framing): a receive loop and serialized sends.</summary>
public sealed class ClientConnection : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _sendBuffer = new(256);
    private byte[] _receiveBuffer;

    private ClientConnection(ClientWebSocket socket, int receiveBufferBytes)
    {
        _socket = socket;
        _receiveBuffer = new byte[receiveBufferBytes];
    }

    public WebSocketState State => _socket.State;

    public static async Task<ClientConnection> ConnectAsync(Uri uri, HttpMessageInvoker invoker, int receiveBufferBytes, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("kefu.v1.json");
        try
        {
            await socket.ConnectAsync(uri, invoker, cancellationToken);
            return new ClientConnection(socket, receiveBufferBytes);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A handler that binds every new client socket to the next of the source addresses (or none).</summary>
    public static HttpMessageInvoker CreateInvoker(int sourceAddresses, int firstAddress = 2)
    {
        var next = -1;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    if (sourceAddresses > 0)
                    {
                        var index = (int)((uint)Interlocked.Increment(ref next) % (uint)sourceAddresses);
                        socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, (byte)(firstAddress + index)]), 0));
                    }

                    var host = context.DnsEndPoint.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(context.DnsEndPoint.Host);
                    await socket.ConnectAsync(new IPEndPoint(host, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>Reads frames until the socket closes or <paramref name="cancellationToken"/> fires; returns the close description.</summary>
    public async Task<string> ReceiveLoopAsync(Action<IncomingFrame> onFrame, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == _receiveBuffer.Length)
                    {
                        Array.Resize(ref _receiveBuffer, _receiveBuffer.Length * 2);
                    }

                    result = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(count), cancellationToken);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return $"closed by the server: {_socket.CloseStatus} {_socket.CloseStatusDescription}";
                    }

                    count += result.Count;
                }
                while (!result.EndOfMessage);

                onFrame(IncomingFrame.Parse(_receiveBuffer.AsSpan(0, count)));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return "cancelled";
        }
        catch (WebSocketException e)
        {
            return e.Message;
        }
        catch (IOException e)
        {
            return e.Message;
        }
        catch (ObjectDisposedException e)
        {
            return e.Message;
        }
    }

    public Task SendSendAsync(string clientMsgId, string? conversationId, string text, CancellationToken cancellationToken) =>
        SendFrameAsync(w =>
        {
            w.WriteString("type"u8, "send"u8);
            w.WriteString("clientMsgId"u8, clientMsgId);
            if (conversationId is not null)
            {
                w.WriteString("conversationId"u8, conversationId);
            }

            w.WriteString("text"u8, text);
        }, cancellationToken);

    public Task SendJoinAsync(string conversationId, CancellationToken cancellationToken) =>
        SendFrameAsync(w =>
        {
            w.WriteString("type"u8, "join"u8);
            w.WriteString("conversationId"u8, conversationId);
        }, cancellationToken);

    public Task SendPingAsync(CancellationToken cancellationToken) => SendFrameAsync(w => w.WriteString("type"u8, "ping"u8), cancellationToken);

    private async Task SendFrameAsync(Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            _sendBuffer.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(_sendBuffer))
            {
                writer.WriteStartObject();
                write(writer);
                writer.WriteEndObject();
            }

            // Not cancellable on purpose: cancelling a WebSocket send aborts the socket, and the end of a run would
            // then look like a disconnect. A send that blocks is bounded by the run's timeouts instead.
            await _socket.SendAsync(_sendBuffer.WrittenMemory, WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Starts the closing handshake (bounded to 2 s); the receive loop ends when the server answers.</summary>
    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "benchmark done", cts.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Closing is best effort.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        _socket.Dispose();
        _sendLock.Dispose();
    }

    /// <summary>
    /// The payload: a Stopwatch timestamp (19 digits), '|', a tag (the clientMsgId a reply answers, or empty), '|',
    /// then padding to <paramref name="bytes"/>.
    /// </summary>
    public static string MakeText(long timestamp, int bytes, string? tag = null)
    {
        var sb = new StringBuilder(bytes);
        sb.Append(timestamp.ToString("D19", System.Globalization.CultureInfo.InvariantCulture)).Append('|').Append(tag).Append('|');
        sb.Append('x', Math.Max(0, bytes - sb.Length));
        return sb.ToString();
    }

    /// <summary>The tag of a text made by <see cref="MakeText"/>.</summary>
    public static ReadOnlySpan<char> ReadTag(string text)
    {
        var rest = text.AsSpan(20);
        var end = rest.IndexOf('|');
        return end < 0 ? [] : rest[..end];
    }

    public static bool TryReadTimestamp(string? text, out long timestamp)
    {
        timestamp = 0;
        return text is { Length: >= 20 } && text[19] == '|'
            && long.TryParse(text.AsSpan(0, 19), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out timestamp);
    }

    /// <summary>True when <paramref name="e"/> (or an inner exception) is "too many open files".</summary>
    public static bool IsTooManyOpenFiles(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets }
                || x.Message.Contains("Too many open files", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
