using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Kefu.Storage.Tests.Cluster;

/// <summary>
/// A loopback TCP forwarder to one target (here: MariaDB). A silo whose database connection string points at it
/// loses the database the moment <see cref="Cut"/> runs: the listener closes and every forwarded connection is reset,
/// which is what the rest of the cluster sees when that silo's machine dies.
/// </summary>
public sealed class TcpForwarder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _cut = new();
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private readonly Task _accepting;

    public TcpForwarder(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public void Cut()
    {
        if (_cut.IsCancellationRequested)
        {
            return;
        }

        _cut.Cancel();
        _listener.Stop();
        foreach (var socket in _sockets.Keys)
        {
            Reset(socket);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cut();
        await _accepting;
        _cut.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_cut.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_cut.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
        _sockets[client] = 0;
        _sockets[server] = 0;
        try
        {
            await server.ConnectAsync(_target, _cut.Token);
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // the connection ends either way
        }
        finally
        {
            _sockets.TryRemove(client, out _);
            _sockets.TryRemove(server, out _);
            Reset(client);
            Reset(server);
            client.Dispose();
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _cut.Token);
                if (read == 0)
                {
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _cut.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // closed by either side or by Cut
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already gone
        }
    }
}
