using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Kefu.Gateway.Tests.Infrastructure;

/// <summary>A kefu.v1.json client over a real ClientWebSocket, as an outside client would use it.</summary>
public sealed class ChatClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly ClientWebSocket _socket;
    private readonly byte[] _buffer = new byte[256 * 1024];

    private ChatClient(ClientWebSocket socket) => _socket = socket;

    public ClientWebSocket Socket => _socket;

    public static async Task<ChatClient> ConnectAsync(Uri uri, string token, string? subprotocol = "kefu.v1.json")
    {
        var socket = new ClientWebSocket();
        if (subprotocol is not null)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }

        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(new Uri($"{uri}?access_token={Uri.EscapeDataString(token)}"), cts.Token);
        return new ChatClient(socket);
    }

    public Task SendAsync(object frame) => SendRawAsync(JsonSerializer.Serialize(frame));

    public async Task SendRawAsync(string text)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
    }

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(bytes, type, true, cts.Token);
    }

    /// <summary>Reads (and drops) every frame until the socket closes, so the connection keeps answering pings.</summary>
    public async Task DiscardUntilClosedAsync()
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // Closed or aborted.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>The next frame; fails the test if none arrives in time.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var count = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(_buffer.AsMemory(count).ToArraySegment(), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketClosedException(result.CloseStatus, result.CloseStatusDescription);
            }

            count += result.Count;
        }
        while (!result.EndOfMessage);

        return JsonDocument.Parse(_buffer.AsMemory(0, count)).RootElement.Clone();
    }

    /// <summary>Frames up to and including the first of <paramref name="type"/>.</summary>
    public async Task<List<JsonElement>> ReceiveUntilAsync(string type, Func<JsonElement, bool>? match = null)
    {
        var frames = new List<JsonElement>();
        while (true)
        {
            var frame = await ReceiveAsync();
            frames.Add(frame);
            if (frame.Type() == type && (match is null || match(frame)))
            {
                return frames;
            }
        }
    }

    /// <summary>
    /// The next frame, which must be of <paramref name="type"/>; <c>conversation</c> updates are pushed whenever a
    /// conversation changes, independent of the request, so they are passed over.
    /// </summary>
    public async Task<JsonElement> ExpectAsync(string type)
    {
        var frame = await ReceiveAsync();
        while (frame.Type() == "conversation" && type != "conversation")
        {
            frame = await ReceiveAsync();
        }

        Assert.True(frame.Type() == type, $"Expected a '{type}' frame, got {frame}");
        return frame;
    }

    /// <summary>Sends and returns the ack (skipping pushed frames that arrive first).</summary>
    public async Task<JsonElement> SendMessageAsync(string text, string? conversationId = null, string? clientMsgId = null)
    {
        clientMsgId ??= Guid.NewGuid().ToString("N");
        await SendAsync(conversationId is null
            ? new { type = "send", clientMsgId, text }
            : new { type = "send", clientMsgId, text, conversationId });
        var frames = await ReceiveUntilAsync("ack", f => f.Str("clientMsgId") == clientMsgId);
        return frames[^1];
    }

    /// <summary>Waits for the close the server sends and returns its status.</summary>
    public async Task<WebSocketCloseStatus?> ReceiveCloseAsync()
    {
        try
        {
            while (true)
            {
                await ReceiveAsync();
            }
        }
        catch (WebSocketClosedException closed)
        {
            return closed.Status;
        }
    }

    public ValueTask DisposeAsync() => _socket.CloseQuietlyAsync();
}

public sealed class WebSocketClosedException(WebSocketCloseStatus? status, string? description)
    : Exception($"The server closed the WebSocket: {status} {description}")
{
    public WebSocketCloseStatus? Status { get; } = status;
}

public static class ClientWebSocketExtensions
{
    /// <summary>Closes (best effort, briefly) and disposes: tests never hang on a peer that went away.</summary>
    public static async ValueTask CloseQuietlyAsync(this ClientWebSocket socket)
    {
        if (socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception)
            {
                // Closing is best effort in tests.
            }
        }

        socket.Dispose();
    }
}

public static class JsonElementExtensions
{
    public static string? Type(this JsonElement frame) => frame.Str("type");

    public static string? Str(this JsonElement frame, string property) =>
        frame.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static long Long(this JsonElement frame, string property) => frame.GetProperty(property).GetInt64();

    public static ArraySegment<byte> ToArraySegment(this Memory<byte> memory) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(memory, out var segment) ? segment : throw new InvalidOperationException();
}
