using System.Net.WebSockets;
using Google.Protobuf;
using Kefu.Contracts.Protocol;

namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>A kefu.v1.bin client over a real ClientWebSocket: protobuf ClientFrame out, ServerFrame in.</summary>
public sealed class BinChatClient : IAsyncDisposable
{
    public const string Subprotocol = "kefu.v1.bin";

    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[256 * 1024];

    private BinChatClient(ClientWebSocket socket) => _socket = socket;

    public ClientWebSocket Socket => _socket;

    public static async Task<BinChatClient> ConnectAsync(Uri uri, string token, params string[] subprotocols)
    {
        var socket = new ClientWebSocket();
        foreach (var subprotocol in subprotocols.Length == 0 ? [Subprotocol] : subprotocols)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }

        using var cts = new CancellationTokenSource(ChatClient.Timeout);
        await socket.ConnectAsync(new Uri($"{uri}?access_token={Uri.EscapeDataString(token)}"), cts.Token);
        return new BinChatClient(socket);
    }

    public Task SendAsync(ClientFrame frame) => SendBytesAsync(frame.ToByteArray(), WebSocketMessageType.Binary);

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(ChatClient.Timeout);
        await _socket.SendAsync(bytes, type, true, cts.Token);
    }

    /// <summary>The next frame, which must be a binary message; fails the test if none arrives in time.</summary>
    public async Task<ServerFrame> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(ChatClient.Timeout);
        var count = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(new ArraySegment<byte>(_buffer, count, _buffer.Length - count), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketClosedException(result.CloseStatus, result.CloseStatusDescription);
            }

            count += result.Count;
        }
        while (!result.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
        return ServerFrame.Parser.ParseFrom(_buffer.AsSpan(0, count));
    }

    /// <summary>Frames up to and including the first of <paramref name="type"/> that matches.</summary>
    public async Task<List<ServerFrame>> ReceiveUntilAsync(ServerFrame.FrameOneofCase type, Func<ServerFrame, bool>? match = null)
    {
        var frames = new List<ServerFrame>();
        while (true)
        {
            var frame = await ReceiveAsync();
            frames.Add(frame);
            if (frame.FrameCase == type && (match is null || match(frame)))
            {
                return frames;
            }
        }
    }

    /// <summary>The next frame, which must be of <paramref name="type"/>; pushed <c>conversation</c> updates are passed over.</summary>
    public async Task<ServerFrame> ExpectAsync(ServerFrame.FrameOneofCase type)
    {
        var frame = await ReceiveAsync();
        while (frame.FrameCase == ServerFrame.FrameOneofCase.Conversation && type != ServerFrame.FrameOneofCase.Conversation)
        {
            frame = await ReceiveAsync();
        }

        Assert.True(frame.FrameCase == type, $"Expected a '{type}' frame, got {frame}");
        return frame;
    }

    /// <summary>Sends and returns the ack (skipping pushed frames that arrive first).</summary>
    public async Task<Ack> SendMessageAsync(string text, string? conversationId = null, string? clientMsgId = null)
    {
        clientMsgId ??= Guid.NewGuid().ToString("N");
        var send = new SendRequest { ClientMsgId = clientMsgId, Text = text };
        if (conversationId is not null)
        {
            send.ConversationId = Ids.Bytes(conversationId);
        }

        await SendAsync(new ClientFrame { Send = send });
        var frames = await ReceiveUntilAsync(ServerFrame.FrameOneofCase.Ack, f => f.Ack.ClientMsgId == clientMsgId);
        return frames[^1].Ack;
    }

    /// <summary>Waits for the close the server sends and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        try
        {
            while (true)
            {
                using var cts = new CancellationTokenSource(ChatClient.Timeout);
                var result = await _socket.ReceiveAsync(new ArraySegment<byte>(_buffer), cts.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return result.CloseStatus;
                }
            }
        }
        catch (WebSocketClosedException closed)
        {
            return closed.Status;
        }
    }

    public ValueTask DisposeAsync() => _socket.CloseQuietlyAsync();
}

/// <summary>ULIDs between their text (JSON) and 16-byte (protobuf) forms.</summary>
public static class Ids
{
    public static ByteString Bytes(string ulid) => ByteString.CopyFrom(Ulid.Parse(ulid).ToByteArray());

    public static string Text(ByteString bytes)
    {
        Assert.Equal(16, bytes.Length);
        return new Ulid(bytes.Span).ToString();
    }
}
