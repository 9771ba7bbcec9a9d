using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Benchmarks;

/// <summary>
/// The raw baseline: a minimal Kestrel WebSocket relay on a loopback port, no Orleans, storage or auth.
/// <c>/ws?role=agent&amp;id=a1</c> and <c>/ws?role=visitor&amp;id=v7&amp;peer=a1</c>: a visitor's text frame goes to
/// its peer agent, an agent's text frame to the visitor named by its <c>conversationId</c>; the sender gets
/// <c>{"type":"ack","clientMsgId":…,"conversationId":…}</c>. Frames are forwarded unchanged (type <c>send</c>).
/// </summary>
public sealed class RelayServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Peer> _peers = new(StringComparer.Ordinal);

    private RelayServer(WebApplication app) => _app = app;

    public Uri BaseUri => new(_app.Urls.First());

    public static async Task<RelayServer> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var relay = new RelayServer(app);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.Map("/ws", relay.HandleAsync);
        await app.StartAsync(cancellationToken);
        return relay;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var id = context.Request.Query["id"].ToString();
        var role = context.Request.Query["role"].ToString();
        if (!context.WebSockets.IsWebSocketRequest || id.Length == 0 || role is not ("agent" or "visitor"))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync("kefu.v1.json");
        var self = new Peer(socket);
        _peers[id] = self;
        var visitorPeer = role == "visitor" ? context.Request.Query["peer"].ToString() : null;
        var buffer = new byte[16 * 1024];
        var ct = context.RequestAborted;
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (count == buffer.Length)
                    {
                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(count), ct);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, ct);
                        return;
                    }

                    count += result.Count;
                }
                while (!result.EndOfMessage);

                var (clientMsgId, conversationId) = ReadIds(buffer.AsSpan(0, count));
                var target = visitorPeer ?? conversationId;
                if (target is not null && _peers.TryGetValue(target, out var peer))
                {
                    try
                    {
                        await peer.SendAsync(buffer.AsMemory(0, count), ct);
                    }
                    catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
                    {
                        // The peer went away; the sender still gets its ack.
                    }
                }

                await self.SendAsync(Ack(clientMsgId, conversationId), ct);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client went away.
        }
        finally
        {
            _peers.TryRemove(new KeyValuePair<string, Peer>(id, self));
        }
    }

    private static (string? ClientMsgId, string? ConversationId) ReadIds(ReadOnlySpan<byte> json)
    {
        var frame = IncomingFrame.Parse(json);
        return (frame.ClientMsgId, frame.ConversationId);
    }

    private static byte[] Ack(string? clientMsgId, string? conversationId)
    {
        using var stream = new MemoryStream(128);
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "ack"u8);
            writer.WriteString("clientMsgId"u8, clientMsgId);
            writer.WriteString("conversationId"u8, conversationId);
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping is bounded; whatever is left is disposed below.
        }

        await _app.DisposeAsync();
    }

    private sealed class Peer(WebSocket socket)
    {
        private readonly SemaphoreSlim _lock = new(1, 1);

        public async Task SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                await socket.SendAsync(frame, WebSocketMessageType.Text, true, cancellationToken);
            }
            finally
            {
                _lock.Release();
            }
        }
    }
}
