using System.Net.WebSockets;
using Kefu.Gateway.WebSockets;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// Ctrl+C / SIGTERM: a WebSocket is a request that never ends by itself, so Kestrel would wait for every open socket
/// until the host's shutdown timeout ran out, and the silo would then be stopped in a hurry (deactivations cut off,
/// pages of warnings). As soon as stopping starts, every socket gets a 1001 close ("going away": clients reconnect to
/// another gateway or later); Kestrel's drain then ends within the close handshake and the silo stops gracefully.
/// </summary>
public sealed partial class GracefulShutdown(IHostApplicationLifetime lifetime, ConnectionRegistry connections, ILogger<GracefulShutdown> logger)
    : IHostedService
{
    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(CloseAll);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void CloseAll()
    {
        var count = 0;
        foreach (var group in connections.ByParticipant())
        {
            foreach (var connection in group)
            {
                connection.CloseFromServer(WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
                count++;
            }
        }

        LogStopping(logger, count);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Kefu gateway stopping: closed {Count} WebSocket connections")]
    private static partial void LogStopping(ILogger logger, int count);
}
