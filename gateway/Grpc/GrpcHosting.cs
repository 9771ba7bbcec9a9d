using Kefu.Gateway.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Kefu.Gateway.Grpc;

/// <summary>
/// The gRPC side of the gateway (docs/integration.md §16): <c>kefu.integration.v1.Integration</c>, <c>grpc.health.v1</c>
/// and server reflection, on their own HTTP/2 endpoint <c>Kefu:Grpc:Url</c>; nothing when that is unset.
/// </summary>
public static class GrpcHosting
{
    /// <summary>The name of the gRPC endpoint when Kestrel's endpoints are configured (Kestrel:Endpoints).</summary>
    private const string GrpcEndpoint = "KefuGrpc";

    public static WebApplicationBuilder AddKefuGrpc(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(KefuGrpcOptions.Section);
        builder.Services.Configure<KefuGrpcOptions>(section);
        var url = section[nameof(KefuGrpcOptions.Url)];
        if (string.IsNullOrWhiteSpace(url))
        {
            return builder;
        }

        // The port tells the gRPC endpoint from the HTTP ones (HTTP/2 only, and the services answer only there).
        var port = PortOf(url);
        if (port <= 0)
        {
            throw new InvalidOperationException($"Kefu:Grpc:Url must name a port of its own, e.g. http://127.0.0.1:5081 (it is '{url}').");
        }

        builder.Configuration.AddInMemoryCollection(ListenSettings(builder.Configuration, url));

        // HTTP/2 only on the gRPC port: h2c needs it (a plain-http port that also speaks HTTP/1 speaks only HTTP/1).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        {
            if (listen.IPEndPoint?.Port == port)
            {
                listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2;
            }
        }));
        var services = builder.Services;
        services.AddSingleton(new GrpcPort(port));
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<GrpcPortGuard>();

            // A message is at most a published event or a bot message (the REST limits are 256 KiB and 512 KiB).
            o.MaxReceiveMessageSize = 1024 * 1024;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(o =>
        {
            o.Services.Map(string.Empty, _ => true);
            o.Services.Map(Contracts.Integration.Integration.Descriptor.FullName, _ => true);
        }).AddCheck<ClusterHealthCheck>("cluster");
        services.AddSingleton<GrpcCallAuth>();
        services.AddSingleton<EventTails>();
        return builder;
    }

    public static WebApplication MapKefuGrpc(this WebApplication app)
    {
        if (app.Services.GetService<GrpcPort>() is null)
        {
            return app;
        }

        app.MapGrpcService<IntegrationService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>The port of an address such as <c>http://127.0.0.1:5081</c> or <c>http://*:5081</c> (0 if none is given).</summary>
    public static int PortOf(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var hostAndPort = scheme < 0 ? url : url[(scheme + 3)..];
        var slash = hostAndPort.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            hostAndPort = hostAndPort[..slash];
        }

        var colon = hostAndPort.LastIndexOf(':');
        return colon >= 0 && !hostAndPort.EndsWith(']') && int.TryParse(hostAndPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? port
            : 0;
    }

    /// <summary>
    /// Where the gRPC URL is listened on. Kestrel serves either the hosting URLs (<c>Urls</c>, <c>--urls</c>,
    /// <c>ASPNETCORE_URLS</c>, <c>HTTP_PORTS</c>) or the endpoints under <c>Kestrel:Endpoints</c>, not both: the gRPC URL
    /// joins whichever is in use (after the HTTP addresses, which stay first), and the endpoint defaults make its port
    /// HTTP/2 only.
    /// </summary>
    public static Dictionary<string, string?> ListenSettings(IConfiguration configuration, string grpcUrl)
    {
        if (configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            return new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                [$"Kestrel:Endpoints:{GrpcEndpoint}:Url"] = grpcUrl,
                [$"Kestrel:Endpoints:{GrpcEndpoint}:Protocols"] = "Http2",
            };
        }

        var urls = new List<string>();
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured)
        {
            urls.AddRange(configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        else
        {
            urls.AddRange(Ports(configuration[WebHostDefaults.HttpPortsKey]).Select(p => $"http://*:{p}"));
            urls.AddRange(Ports(configuration[WebHostDefaults.HttpsPortsKey]).Select(p => $"https://*:{p}"));
        }

        if (urls.Count == 0)
        {
            urls.Add("http://localhost:5000"); // Kestrel's own default
        }

        urls.Add(grpcUrl);
        return new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { [WebHostDefaults.ServerUrlsKey] = string.Join(';', urls) };
    }

    private static IEnumerable<string> Ports(string? ports) =>
        (ports ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>grpc.health.v1 answers SERVING while the gateway is connected to the cluster (as <c>/readyz</c> says 200).</summary>
public sealed class ClusterHealthCheck(GatewayReadiness readiness) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(readiness.IsReady
            ? HealthCheckResult.Healthy("Connected to the cluster.")
            : HealthCheckResult.Unhealthy("The gateway is not connected to the cluster yet."));
}
