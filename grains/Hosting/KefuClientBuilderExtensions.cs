using Kefu.Grains.Streaming;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Kefu.Grains.Hosting;

/// <summary>How a gateway in cluster mode joins the cluster as an Orleans client: it finds gateways (silos) in the membership table.</summary>
public static class KefuClientBuilderExtensions
{
    public static IClientBuilder AddKefuClient(this IClientBuilder client, IConfiguration configuration)
    {
        var options = KefuSiloOptions.From(configuration);
        var connectionString = KefuCluster.ConnectionString(configuration)
            ?? throw new InvalidOperationException("Cluster mode needs ConnectionStrings:kefu.");
        client.Configure<ClusterOptions>(options.ApplyTo);
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = KefuCluster.Invariant;
            o.ConnectionString = connectionString;
        });
        // The same stream provider as the silos (same name, same queue mapping), so a gateway can produce and subscribe.
        if (Telemetry.TelemetryOptions.From(configuration).PropagateTraces)
        {
            client.AddActivityPropagation(); // a grain call continues the gateway's trace (docs/operations.md)
        }

        return client.AddKefuStreams(configuration);
    }
}
