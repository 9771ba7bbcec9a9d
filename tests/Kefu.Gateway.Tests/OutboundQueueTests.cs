using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kefu.Gateway.Tests;

/// <summary>
/// The per-connection outbound queue on its own (no Orleans): it exists only while frames wait, so these check that
/// creating and dropping it keeps the guarantees: bounded (a client too far behind is dropped), in order, and frames
/// queued before the upgrade completes are written once the socket is there.
/// </summary>
public sealed class OutboundQueueTests
{
    private static readonly Caller Visitor = new("default", ParticipantRole.Visitor, "v1", "Ann", IsAdmin: false);

    [Fact]
    public void A_connection_whose_queue_is_full_is_dropped()
    {
        var connection = NewConnection(queue: 4);
        for (var i = 0; i < 4; i++)
        {
            connection.Deliver(Typing(), Encoding.UTF8.GetBytes($"frame {i}"));
            Assert.False(connection.IsStopping);
        }

        connection.Deliver(Typing(), "one too many"u8.ToArray());
        Assert.True(connection.IsStopping);
    }

    [Fact]
    public async Task Frames_queued_before_the_socket_are_written_in_order_then_live_ones_and_the_close_handshake_completes()
    {
        var (serverStream, clientStream, listener) = await ConnectedStreamsAsync();
        using var _ = listener;
        using var server = WebSocket.CreateFromStream(serverStream, new WebSocketCreationOptions { IsServer = true });
        using var client = WebSocket.CreateFromStream(clientStream, new WebSocketCreationOptions { IsServer = false });
        var connection = NewConnection(queue: 256);
        for (var i = 0; i < 3; i++)
        {
            connection.Deliver(Typing(), Encoding.UTF8.GetBytes($"early {i}"));
        }

        var run = connection.RunAsync(server, new ConnectionRegistry(), CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal($"early {i}", await ReceiveTextAsync(client, timeout.Token));
        }

        // The queue was drained and dropped; the next frame creates it again.
        for (var i = 0; i < 100; i++)
        {
            connection.Deliver(Typing(), Encoding.UTF8.GetBytes($"live {i}"));
        }

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal($"live {i}", await ReceiveTextAsync(client, timeout.Token));
        }

        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        await run.WaitAsync(timeout.Token);
        Assert.True(connection.IsStopping);
    }

    private static ChatConnection NewConnection(int queue) =>
        // No grain factory: these tests never reach a grain (the final disconnect report fails and is logged).
        new(Visitor, "gw-test", null!, new KefuWebSocketOptions { OutboundQueue = queue }, NullLogger.Instance);

    private static TypingEvent Typing() => new("c1", new Sender(ParticipantRole.Agent, "a1", "Bob"), On: true);

    private static async Task<string> ReceiveTextAsync(WebSocket socket, CancellationToken token)
    {
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, token);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.True(result.EndOfMessage);
        return Encoding.UTF8.GetString(buffer, 0, result.Count);
    }

    private static async Task<(Stream Server, Stream Client, TcpListener Listener)> ConnectedStreamsAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new TcpClient();
        var accept = listener.AcceptTcpClientAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var server = await accept;
        listener.Stop();
        return (server.GetStream(), client.GetStream(), listener);
    }
}
