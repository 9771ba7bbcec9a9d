using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Serialization;
using Orleans.Streams;

namespace Kefu.Grains.Streaming.Kafka;

/// <summary>
/// Orleans persistent streams over one Kafka topic: one Orleans queue per partition (the partitioned hash-ring mapper
/// sends each stream to one queue, the queue names its partition), Orleans' simple in-memory cache in front of each
/// receiver. Disposed with the host's services, which closes the producer.
/// </summary>
public sealed class KafkaQueueAdapterFactory : IQueueAdapterFactory, IDisposable
{
    private readonly string _name;
    private readonly KafkaStreamOptions _options;
    private readonly Serializer<KafkaBatchPayload> _serializer;
    private readonly ILoggerFactory _loggerFactory;
    private readonly HashRingBasedPartitionedStreamQueueMapper _mapper;
    private readonly SimpleQueueAdapterCache _cache;
    private readonly KafkaReceivers _receivers = new();
    private readonly Lock _lock = new();
    private KafkaQueueAdapter? _adapter;

    public KafkaQueueAdapterFactory(string name, KafkaStreamOptions options, SimpleQueueCacheOptions cacheOptions,
        Serializer<KafkaBatchPayload> serializer, ILoggerFactory loggerFactory)
    {
        options.Validate();
        _name = name;
        _options = options;
        _serializer = serializer;
        _loggerFactory = loggerFactory;
        var partitions = Enumerable.Range(0, options.Partitions).Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList();
        _mapper = new HashRingBasedPartitionedStreamQueueMapper(partitions, name);
        _cache = new SimpleQueueAdapterCache(cacheOptions, name, loggerFactory);
    }

    /// <summary>The factory <c>AddPersistentStreams</c> calls, with the options named after the provider.</summary>
    public static KafkaQueueAdapterFactory Create(IServiceProvider services, string name) => new(
        name,
        services.GetRequiredService<IOptionsMonitor<KafkaStreamOptions>>().Get(name),
        services.GetRequiredService<IOptionsMonitor<SimpleQueueCacheOptions>>().Get(name),
        services.GetRequiredService<Serializer<KafkaBatchPayload>>(),
        services.GetRequiredService<ILoggerFactory>());

    public Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken) => CreateAdapter();

    public Task<IQueueAdapter> CreateAdapter()
    {
        lock (_lock)
        {
            _adapter ??= new KafkaQueueAdapter(_name, _options, _mapper, _serializer, _receivers, _loggerFactory);
            return Task.FromResult<IQueueAdapter>(_adapter);
        }
    }

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) =>
        Task.FromResult<IStreamFailureHandler>(new KafkaDeliveryFailureHandler(queueId, _receivers, _loggerFactory.CreateLogger<KafkaDeliveryFailureHandler>()));

    public void Dispose()
    {
        lock (_lock)
        {
            _adapter?.Dispose();
        }
    }
}
