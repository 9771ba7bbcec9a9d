using Kefu.Grains.Streaming.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Kefu.Grains.Inbound.Kafka;

public static class CustomerEventsServices
{
    /// <summary>
    /// Reads <c>customer_events</c> on this silo when Kafka is configured (and the reader is not turned off): a second Kafka
    /// stream provider (<see cref="CustomerEventsOptions.ProviderName"/>) over the external topic, whose partitions
    /// Orleans' balancer spreads over the silos like the <c>kefu</c> provider's, and the dead-letter producer.
    /// </summary>
    public static ISiloBuilder AddKefuCustomerEvents(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = CustomerEventsOptions.From(configuration);
        if (KafkaStreamOptions.ConfiguredBootstrap(configuration) is null || !options.Enabled)
        {
            return silo;
        }

        options.Validate();
        options.MaxBodyBytes = configuration.GetValue<int?>("Kefu:Inbound:MaxBodyBytes") ?? options.MaxBodyBytes;
        // The configuration given here, not the host's IConfiguration (a test host's differs): bound once, as options.
        silo.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        silo.Services.TryAddSingleton<CustomerEventDeadLetters>();
        return silo.AddKefuKafkaStreams(CustomerEventsOptions.ProviderName, streams => options.ApplyTo(streams, configuration), stream =>
        {
            // Only the implicit per-partition consumer: no pub-sub state to look up for a stream nobody subscribes to.
            stream.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly);
            // The consumer decides when to give up (TransientRetryFor); Orleans must keep delivering until then, or it would
            // skip the record (its offset settled) without a dead letter.
            stream.ConfigurePullingAgent(agent => agent.Configure(o => o.MaxEventDeliveryTime = options.TransientRetryFor * 2 + TimeSpan.FromMinutes(10)));
        });
    }
}
