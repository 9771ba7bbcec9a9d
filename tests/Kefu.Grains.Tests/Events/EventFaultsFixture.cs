using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Events;

/// <summary>Switches a test flips to make the next state write, event relay or message append fail.</summary>
public sealed class Faults
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _failStateWritesOf = new(StringComparer.Ordinal);

    /// <summary>The event log refuses appends (relays; message batches go through the message store's switch).</summary>
    public volatile bool FailEventLog;

    /// <summary>The message store refuses appends before storing anything.</summary>
    public volatile bool FailMessageAppends;

    /// <summary>The next state write of this grain (key "tenant/id") fails without storing anything.</summary>
    public void FailNextStateWriteOf(string grainKey)
    {
        lock (_gate)
        {
            _failStateWritesOf.Add(grainKey);
        }
    }

    public bool TakeStateWriteFailure(string grainKey)
    {
        lock (_gate)
        {
            return _failStateWritesOf.Remove(grainKey);
        }
    }
}

/// <summary>A sink that remembers every event it was handed.</summary>
public sealed class RecordingSink : IConversationEventSink
{
    private readonly List<DomainEvent> _events = [];
    private readonly List<CommittedChange> _changes = [];

    public void OnCommitted(CommittedChange change)
    {
        lock (_events)
        {
            _events.AddRange(change.Events);
            _changes.Add(change);
        }
    }

    public CommittedChange[] ChangesOf(string conversationId)
    {
        lock (_events)
        {
            return [.. _changes.Where(c => c.ConversationId == conversationId)];
        }
    }

    public int TimesHanded(Ulid eventId)
    {
        lock (_events)
        {
            return _events.Count(e => e.Id == eventId);
        }
    }
}

/// <summary>A silo whose grain storage, event log and message store fail on the test's say.</summary>
public sealed class EventFaultsFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public Faults Faults => Cluster.Silos[0].ServiceProvider.GetRequiredService<Faults>();

    /// <summary>Every change handed to the sinks.</summary>
    public RecordingSink Sink => Cluster.Silos[0].ServiceProvider.GetRequiredService<RecordingSink>();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            // Registered first: AddKefuGrains only adds its own log and store when none are there.
            silo.Services.AddSingleton<Faults>();
            silo.Services.AddSingleton<IEventLog>(sp => new FaultyEventLog(
                new InMemoryEventLog(sp.GetRequiredService<IOptions<EventLogOptions>>(), TimeProvider.System), sp.GetRequiredService<Faults>()));
            silo.Services.AddSingleton<IMessageStore>(sp => new FaultyMessageStore(
                new InMemoryMessageStore(sp.GetRequiredService<IEventLog>()), sp.GetRequiredService<Faults>()));
            silo.Services.AddSingleton<RecordingSink>();
            silo.Services.AddSingleton<IConversationEventSink>(sp => sp.GetRequiredService<RecordingSink>());
            silo.AddKefuGrains(new ConfigurationBuilder().Build(), singleSilo: true);

            // Replaces the storage AddKefuGrains registered under the same name (the last registration wins).
            silo.Services.AddGrainStorage(KefuStorage.Name, static (sp, _) => new FaultyGrainStorage(
                new LocalGrainStorage(new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>())), sp.GetRequiredService<Faults>()));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private sealed class FaultyGrainStorage(IGrainStorage inner, Faults faults) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            faults.TakeStateWriteFailure(grainId.Key.ToString()!)
                ? Task.FromException(new InvalidOperationException("Injected: the state write failed."))
                : inner.WriteStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);
    }

    private sealed class FaultyEventLog(IEventLog inner, Faults faults) : IEventLog
    {
        public ValueTask AppendAsync(IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default) =>
            faults.FailEventLog ? ValueTask.FromException(new InvalidOperationException("Injected: the event log is down.")) : inner.AppendAsync(events, cancellationToken);

        public ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(tenant, after, types, limit, cancellationToken);
    }

    private sealed class FaultyMessageStore(IMessageStore inner, Faults faults) : IMessageStore
    {
        public ValueTask AppendAsync(string tenant, ChatMessage message, IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default) =>
            faults.FailMessageAppends ? ValueTask.FromException(new InvalidOperationException("Injected: the message store is down.")) : inner.AppendAsync(tenant, message, events, cancellationToken);

        public ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(string tenant, string conversationId, long afterSeq, int limit, CancellationToken cancellationToken = default) =>
            inner.ReadAfterAsync(tenant, conversationId, afterSeq, limit, cancellationToken);

        public ValueTask<IReadOnlyList<ChatMessage>> ReadLatestAsync(string tenant, string conversationId, int count, CancellationToken cancellationToken = default) =>
            inner.ReadLatestAsync(tenant, conversationId, count, cancellationToken);

        public ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default) =>
            inner.PruneAsync(tenant, before, limit, cancellationToken);
    }
}

[CollectionDefinition(Name)]
public sealed class EventFaultsCollection : ICollectionFixture<EventFaultsFixture>
{
    public const string Name = "Kefu cluster with injected faults";
}
