using System.Collections.Concurrent;
using Kefu.Grains.Dispatch;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>What the dispatcher told a conversation: an assignment (<see cref="AgentId"/>) or a queue position.</summary>
public sealed record Notice(string Tenant, string ConversationId, string? AgentId, int Position);

/// <summary>Records the dispatcher's one-way messages instead of sending them, so tests can check what was said.</summary>
public sealed class RecordingNotifier : IDispatchNotifier
{
    private readonly ConcurrentQueue<Notice> _notices = new();

    public void Assigned(string tenant, string conversationId, string agentId) =>
        _notices.Enqueue(new Notice(tenant, conversationId, agentId, 0));

    public void QueuePositionChanged(string tenant, string conversationId, int position) =>
        _notices.Enqueue(new Notice(tenant, conversationId, null, position));

    public Notice[] Assignments(string tenant) => [.. _notices.Where(n => n.Tenant == tenant && n.AgentId is not null)];

    public Notice[] Positions(string tenant) => [.. _notices.Where(n => n.Tenant == tenant && n.AgentId is null)];
}

/// <summary>A silo whose dispatchers report to a <see cref="RecordingNotifier"/>.</summary>
public abstract class DispatchClusterFixtureBase : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public RecordingNotifier Notifier { get; } = new();

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    protected virtual IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IDispatchNotifier>(Notifier);
            silo.AddKefuGrains(configuration);
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

/// <summary>Production timings (45 s status expiry, 5 s ticks).</summary>
public sealed class DispatchClusterFixture : DispatchClusterFixtureBase;

/// <summary>Statuses expire after 1.5 s and the dispatcher ticks every 200 ms, so expiry and re-sends show quickly.</summary>
public sealed class FastDispatchClusterFixture : DispatchClusterFixtureBase
{
    public static readonly TimeSpan StatusExpiry = TimeSpan.FromSeconds(1.5);

    protected override IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        [$"{DispatchOptions.Section}:{nameof(DispatchOptions.StatusExpiry)}"] = StatusExpiry.ToString(),
        [$"{DispatchOptions.Section}:{nameof(DispatchOptions.TickPeriod)}"] = TimeSpan.FromMilliseconds(200).ToString(),
    };
}

[CollectionDefinition(Name)]
public sealed class DispatchClusterCollection : ICollectionFixture<DispatchClusterFixture>
{
    public const string Name = "Kefu dispatch cluster";
}

[CollectionDefinition(Name)]
public sealed class FastDispatchClusterCollection : ICollectionFixture<FastDispatchClusterFixture>
{
    public const string Name = "Kefu dispatch cluster, fast clock";
}
