using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace Kefu.Grains.Streaming.Kafka;

public static class KafkaStreamsBuilderExtensions
{
    /// <summary>A persistent stream provider named <paramref name="name"/> over Kafka: silos produce and read partitions.</summary>
    /// <param name="configureStream">Orleans' own settings of the provider (pulling agent, pub-sub), if any.</param>
    public static ISiloBuilder AddKefuKafkaStreams(this ISiloBuilder silo, string name, Action<KafkaStreamOptions> configure,
        Action<ISiloPersistentStreamConfigurator>? configureStream = null)
    {
        silo.Services.AddOptions<KafkaStreamOptions>(name).Configure(configure);
        return silo.AddPersistentStreams(name, KafkaQueueAdapterFactory.Create, configureStream ?? (_ => { }));
    }

    /// <summary>
    /// The same provider on an Orleans client: a client produces to the topic itself (through the same queue mapper,
    /// so to the same partitions) and may subscribe; it never reads partitions, that is the silos' pulling agents.
    /// </summary>
    public static IClientBuilder AddKefuKafkaStreams(this IClientBuilder client, string name, Action<KafkaStreamOptions> configure)
    {
        client.Services.AddOptions<KafkaStreamOptions>(name).Configure(configure);
        return client.AddPersistentStreams(name, KafkaQueueAdapterFactory.Create, null);
    }
}
