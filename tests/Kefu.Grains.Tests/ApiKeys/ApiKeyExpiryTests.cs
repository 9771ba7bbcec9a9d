using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.ApiKeys;

/// <summary>A silo whose grains read a fake clock (it starts at the real time and moves only when a test says).</summary>
public sealed class FakeClockClusterFixture : IAsyncLifetime
{
    private InProcessTestCluster? _cluster;

    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public IClusterClient Client => (_cluster ?? throw new InvalidOperationException("The cluster is not started.")).Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<TimeProvider>(Clock);
            silo.AddKefuGrains(new ConfigurationBuilder().Build());
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

/// <summary>A key's expiry (docs/integration.md §7) on the grain's clock: honoured until the instant, refused from it.</summary>
public sealed class ApiKeyExpiryTests(FakeClockClusterFixture fixture) : IClassFixture<FakeClockClusterFixture>
{
    [Fact]
    public async Task A_key_is_refused_from_its_expiry_on_and_its_last_use_follows_the_clock()
    {
        var tenant = Infrastructure.Scenario.NewTenant();
        var start = fixture.Clock.GetUtcNow();
        var hash = SHA256.HashData(Guid.NewGuid().ToByteArray());
        var grain = fixture.Client.GetGrain<IApiKeyGrain>(Ulid.NewUlid().ToString().ToLowerInvariant());
        Assert.True((await grain.Create(tenant, new ApiKeySpec("ERP", ["events:write"], [], start.AddHours(1)), hash, "admin")).IsOk);

        Assert.Equal(start, (await grain.Authenticate(hash))?.LastUsedAt);
        fixture.Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(start.AddMinutes(59), (await grain.Authenticate(hash))?.LastUsedAt);
        fixture.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await grain.Authenticate(hash));
        Assert.Equal(start.AddMinutes(59), (await grain.Get(tenant))!.LastUsedAt);
    }
}
