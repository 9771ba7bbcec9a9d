using Kefu.Contracts.Grains;
using Kefu.Grains.Participants;
using Kefu.Grains.Tests.Infrastructure;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests;

/// <summary>
/// A silo whose visitors expire after three idle seconds: short enough for a test, long enough that creating a visitor
/// and starting its conversation on a slow, cold CI machine is never mistaken for idleness (one second was, once).
/// </summary>
public sealed class ShortVisitorExpiryClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public IClusterClient Client => (_cluster ?? throw new InvalidOperationException("The cluster is not started.")).Client;

    public async Task InitializeAsync() => _cluster = await KefuTestCluster.StartAsync(new Dictionary<string, string?>
    {
        [$"{VisitorOptions.Section}:{nameof(VisitorOptions.IdleExpiry)}"] = "00:00:03",
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>Visitors who never write go away (issue #12, item 3); visitors with a conversation stay.</summary>
public sealed class VisitorExpiryTests(ShortVisitorExpiryClusterFixture fixture) : IClassFixture<ShortVisitorExpiryClusterFixture>
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task AVisitorWhoNeverWroteIsDeletedAfterTheIdleTimeAndOneWithAConversationIsKept()
    {
        var tenant = Scenario.NewTenant();
        var silent = await Scenario.NewVisitorAsync(Client, tenant, name: "Silent");
        var connected = await Scenario.NewVisitorAsync(Client, tenant, name: "Connected");
        await connected.Grain.Connect("gw-nobody-listens", "conn-1");
        var writer = await Scenario.NewVisitorAsync(Client, tenant, name: "Writer");
        var (_, conversation) = await Scenario.StartConversationAsync(Client, writer);
        (await conversation.SendAsync(writer.Caller, "c-1", "hello")).Ok();

        // The silent one's state is cleared by itself (the probe's GetProfile is not the visitor's own activity).
        await Scenario.EventuallyAsync(() => silent.Grain.GetProfile(), p => p is null, "the silent visitor to expire", TimeSpan.FromSeconds(30));

        Assert.Equal("Writer", (await writer.Grain.GetProfile())?.Name);
        Assert.NotNull(await writer.Grain.GetCurrentConversation());
        Assert.Equal("Connected", (await connected.Grain.GetProfile())?.Name); // a live connection is activity

        // Once it is gone, it stays gone until it ever comes back.
        await connected.Grain.Disconnect("gw-nobody-listens", "conn-1");
        await Scenario.EventuallyAsync(() => connected.Grain.GetProfile(), p => p is null, "the disconnected visitor to expire", TimeSpan.FromSeconds(30));
        Assert.Equal("Writer", (await writer.Grain.GetProfile())?.Name);
    }
}
