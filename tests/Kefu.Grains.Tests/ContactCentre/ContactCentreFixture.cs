using Kefu.Grains.Dispatch;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.ContactCentre;

/// <summary>
/// A silo whose dispatcher ticks fast (unconfirmed assignments are re-sent within a second) and whose notifier
/// records what the dispatcher tells conversations, so a test can see that an assignment was confirmed.
/// </summary>
public sealed class ContactCentreFixture : IAsyncLifetime
{
    public static readonly TimeSpan TickPeriod = TimeSpan.FromMilliseconds(200);

    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public RecordingDispatchNotifier Notifier => Cluster.Silos[0].ServiceProvider.GetRequiredService<RecordingDispatchNotifier>();

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            [$"{DispatchOptions.Section}:{nameof(DispatchOptions.TickPeriod)}"] = TickPeriod.ToString(),
        };
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            // Registered first: AddKefuGrains only adds its own notifier when none is there.
            silo.Services.AddSingleton<RecordingDispatchNotifier>();
            silo.Services.AddSingleton<IDispatchNotifier>(sp => sp.GetRequiredService<RecordingDispatchNotifier>());
            silo.AddKefuGrains(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
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
}

/// <summary>Passes everything on to the real notifier and remembers every assignment it was asked to send.</summary>
public sealed class RecordingDispatchNotifier(IGrainFactory grains, ILogger<GrainDispatchNotifier> logger) : IDispatchNotifier
{
    private readonly GrainDispatchNotifier _inner = new(grains, logger);
    private readonly List<(string ConversationId, string AgentId)> _assigned = [];

    public int AssignmentsSent(string conversationId)
    {
        lock (_assigned)
        {
            return _assigned.Count(a => a.ConversationId == conversationId);
        }
    }

    public void Assigned(string tenant, string conversationId, string agentId)
    {
        lock (_assigned)
        {
            _assigned.Add((conversationId, agentId));
        }

        _inner.Assigned(tenant, conversationId, agentId);
    }

    public void QueuePositionChanged(string tenant, string conversationId, int position) =>
        _inner.QueuePositionChanged(tenant, conversationId, position);
}

[CollectionDefinition(Name)]
public sealed class ContactCentreCollection : ICollectionFixture<ContactCentreFixture>
{
    public const string Name = "Kefu contact-centre cluster";
}
