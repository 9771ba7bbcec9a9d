using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Kefu.Gateway.Hosting;

/// <summary>Prints where to connect once Kestrel is listening.</summary>
public sealed class StartupBanner(IServer server, IHostApplicationLifetime lifetime, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var grpcPort = services.GetService<Grpc.GrpcPort>()?.Number ?? 0;
            foreach (var address in addresses)
            {
                if (grpcPort > 0 && Grpc.GrpcHosting.PortOf(address) == grpcPort)
                {
                    Console.WriteLine($"Kefu gRPC ready: {address}  (HTTP/2: kefu.integration.v1.Integration, grpc.health.v1, reflection)");
                    continue;
                }

                Console.WriteLine($"Kefu gateway ready: {address}  (WebSocket: {address.Replace("http", "ws", StringComparison.Ordinal)}/ws)");
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
