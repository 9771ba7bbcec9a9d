using System.Net;
using Kefu.Grains.Hosting;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;

namespace Kefu.Silo;

/// <summary>
/// Orleans' Kubernetes hosting (deploy/k8s, docs/deployment.md), switched on by <c>Kefu:Kubernetes:Enabled</c>. It names
/// the silo after its pod, takes the cluster identity from the pod's <c>orleans/serviceId</c> and <c>orleans/clusterId</c>
/// labels, and ties membership to pods: a silo whose pod is gone is declared dead at once instead of after missed
/// probes, and (<c>DeleteDefunctSiloPods</c>) the pod of a silo the cluster voted dead is deleted so its Deployment
/// replaces it. It is not a membership provider: the MySQL membership table stays, so it needs cluster mode.
/// </summary>
public static class KubernetesHosting
{
    public const string Section = "Kefu:Kubernetes";

    public static ISiloBuilder AddKefuKubernetes(this ISiloBuilder silo, IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        if (!section.GetValue<bool>("Enabled"))
        {
            return silo;
        }

        if (KefuCluster.ConnectionString(configuration) is null)
        {
            throw new InvalidOperationException(
                "Kefu:Kubernetes:Enabled needs cluster mode (ConnectionStrings:kefu): Kubernetes hosting keeps membership in MySQL.");
        }

        // The library sets ClusterOptions from ORLEANS_CLUSTER_ID / ORLEANS_SERVICE_ID; the gateways connect with
        // Kefu:Silo:ClusterId / ServiceId. Silos and gateways that disagree never meet: refuse to start instead.
        var options = KefuSiloOptions.From(configuration);
        CheckIdentity(KubernetesHostingOptions.ClusterIdEnvironmentVariable, "Kefu:Silo:ClusterId", options.ClusterId);
        CheckIdentity(KubernetesHostingOptions.ServiceIdEnvironmentVariable, "Kefu:Silo:ServiceId", options.ServiceId);

        // MaxAgents and DeleteDefunctSiloPods come from the same section ("Enabled" is ours and ignored by the binder).
        silo.UseKubernetesHosting(o => o.Bind(section));

        // AddKefu advertises Kefu:Silo:AdvertisedAddress, or loopback, explicitly, and the library leaves an explicit
        // address alone: advertise the pod's IP unless an address is configured.
        if (string.IsNullOrWhiteSpace(options.AdvertisedAddress)
            && IPAddress.TryParse(Environment.GetEnvironmentVariable(KubernetesHostingOptions.PodIPEnvironmentVariable), out var podIp))
        {
            silo.Configure<EndpointOptions>(o => o.AdvertisedIPAddress = podIp);
        }

        return silo;
    }

    private static void CheckIdentity(string variable, string key, string configured)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromPod && fromPod != configured)
        {
            throw new InvalidOperationException(
                $"{variable} is '{fromPod}' but {key} is '{configured}': gateways use {key}, so set the pod label and the key alike.");
        }
    }
}
