using Kefu.Grains.Inbound.Kafka;
using Kefu.Grains.Streaming.Kafka;
using Microsoft.Extensions.Configuration;
using Orleans.Hosting;

namespace Kefu.Grains.Streaming;

/// <summary>
/// The stream provider every Kefu grain uses, <see cref="ProviderName"/>: Kafka when <c>Kefu:Kafka:BootstrapServers</c>
/// is set, Orleans' memory streams otherwise (the embedded default and tests; in memory, lost with the silo).
/// </summary>
public static class KefuStreams
{
    public const string ProviderName = "kefu";

    /// <summary>The grain storage of explicit subscriptions (Orleans' pub-sub rendezvous grains) looks for this name.</summary>
    public const string PubSubStore = "PubSubStore";

    /// <summary>With Kafka, silos also read the inbound <c>customer_events</c> topic (a provider of its own).</summary>
    public static ISiloBuilder AddKefuStreams(this ISiloBuilder silo, IConfiguration configuration) =>
        KafkaStreamOptions.ConfiguredBootstrap(configuration) is null
            ? silo.AddMemoryStreams(ProviderName)
            : silo.AddKefuKafkaStreams(ProviderName, options => options.Bind(configuration)).AddKefuCustomerEvents(configuration);

    public static IClientBuilder AddKefuStreams(this IClientBuilder client, IConfiguration configuration) =>
        KafkaStreamOptions.ConfiguredBootstrap(configuration) is null
            ? client.AddMemoryStreams(ProviderName)
            : client.AddKefuKafkaStreams(ProviderName, options => options.Bind(configuration));
}
