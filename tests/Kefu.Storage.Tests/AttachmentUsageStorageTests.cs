using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Storage.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Storage.Tests;

/// <summary>
/// Cluster mode: attachment quotas count against grain state in MySQL and the retention reminder lives in the MySQL
/// reminder table, so both survive a restart of every silo.
/// </summary>
public sealed class AttachmentUsageStorageTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    [Fact]
    public async Task Usage_and_the_retention_reminder_survive_a_restart_of_the_cluster()
    {
        var names = ClusterNames.New();
        var key = Tenancy.Key(Tenancy.DefaultTenant, AttachmentUsage.TenantScope);
        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, Configure));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            var usage = client.Cluster.GetGrain<IAttachmentUsageGrain>(key);
            Assert.True(await usage.TryReserve(700, 1000));
            Assert.False(await usage.TryReserve(400, 1000));
            await client.Cluster.GetGrain<IAttachmentRetentionGrain>(0).Start(TimeSpan.FromHours(1));
        }

        // Every silo is gone; only the database remembers.
        await using (var hosts = new HostGroup())
        {
            var silo = await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, Configure));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            var usage = client.Cluster.GetGrain<IAttachmentUsageGrain>(key);
            Assert.Equal(700, await usage.GetUsedBytes());
            Assert.False(await usage.TryReserve(400, 1000));
            Assert.True(await usage.TryReserve(300, 1000));

            var retention = client.Cluster.GetGrain<IAttachmentRetentionGrain>(0);
            var reminder = await silo.Services.GetRequiredService<IReminderTable>().ReadRow(retention.GetGrainId(), "attachment-retention");
            Assert.NotNull(reminder);
            Assert.Equal(TimeSpan.FromHours(1), reminder.Period);
            await retention.Stop();
        }
    }

    private static void Configure(Orleans.Hosting.ISiloBuilder silo) => silo.Services.TryAddSingleton(TimeProvider.System);
}
