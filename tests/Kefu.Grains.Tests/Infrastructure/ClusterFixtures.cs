using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Infrastructure;

/// <summary>Starts one in-process silo with the Kefu grains and the given configuration.</summary>
internal static class KefuTestCluster
{
    public static async Task<InProcessTestCluster> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
            silo.AddKefuGrains(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

/// <summary>A silo with the production defaults (no configuration).</summary>
public sealed class DefaultClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync() => _cluster = await KefuTestCluster.StartAsync(new Dictionary<string, string?>());

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>A silo whose conversations keep only a small recent window in memory, so reads hit the store.</summary>
public sealed class SmallWindowClusterFixture : IAsyncLifetime
{
    public const int RecentWindow = 8;

    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync() => _cluster = await KefuTestCluster.StartAsync(new Dictionary<string, string?>
    {
        [$"{ConversationOptions.Section}:{nameof(ConversationOptions.RecentWindow)}"] = RecentWindow.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DefaultClusterCollection : ICollectionFixture<DefaultClusterFixture>
{
    public const string Name = "Kefu default cluster";
}

[CollectionDefinition(Name)]
public sealed class SmallWindowClusterCollection : ICollectionFixture<SmallWindowClusterFixture>
{
    public const string Name = "Kefu small recent window cluster";
}
