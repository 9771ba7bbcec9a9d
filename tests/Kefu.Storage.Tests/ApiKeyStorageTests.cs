using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Storage.Tests.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Kefu.Storage.Tests;

/// <summary>
/// Cluster mode: service API keys are grain state in MySQL, so a key, its revocation, its last use and the tenant's list
/// survive a restart of every silo (docs/integration.md §7).
/// </summary>
public sealed class ApiKeyStorageTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    [Fact]
    public async Task Keys_revocations_and_last_use_survive_a_restart_of_the_cluster()
    {
        var names = ClusterNames.New();
        var tenant = "t" + Guid.NewGuid().ToString("N")[..12];
        var kept = Ulid.NewUlid().ToString().ToLowerInvariant();
        var revoked = Ulid.NewUlid().ToString().ToLowerInvariant();
        var hash = SHA256.HashData(Guid.NewGuid().ToByteArray());
        DateTimeOffset? lastUsed;
        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, Configure));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            var directory = client.Cluster.GetGrain<IApiKeyDirectoryGrain>(tenant);
            foreach (var id in new[] { kept, revoked })
            {
                Assert.True(await directory.Add(id));
                var created = await client.Cluster.GetGrain<IApiKeyGrain>(id).Create(tenant, new ApiKeySpec("ERP", ["events:read"], ["shop"], null), hash, "admin");
                Assert.True(created.IsOk);
            }

            lastUsed = (await client.Cluster.GetGrain<IApiKeyGrain>(kept).Authenticate(hash))?.LastUsedAt;
            Assert.NotNull(lastUsed);
            Assert.True(await client.Cluster.GetGrain<IApiKeyGrain>(revoked).Revoke(tenant));
            await directory.Remove(revoked);
        }

        // Every silo is gone; only the database remembers.
        await using (var hosts = new HostGroup())
        {
            await hosts.Add(TestSilo.StartAsync(names, database.ConnectionString, Configure));
            var client = await hosts.Add(TestClient.StartAsync(names, database.ConnectionString));
            Assert.Equal([kept], await client.Cluster.GetGrain<IApiKeyDirectoryGrain>(tenant).List());
            Assert.Null(await client.Cluster.GetGrain<IApiKeyGrain>(revoked).Authenticate(hash));
            var key = await client.Cluster.GetGrain<IApiKeyGrain>(kept).Get(tenant);
            Assert.NotNull(key);
            Assert.Equal(["shop"], key.Inboxes);
            Assert.Equal(lastUsed!.Value.ToUnixTimeMilliseconds(), key.LastUsedAt!.Value.ToUnixTimeMilliseconds());
            Assert.NotNull(await client.Cluster.GetGrain<IApiKeyGrain>(kept).Authenticate(hash));
            Assert.Null(await client.Cluster.GetGrain<IApiKeyGrain>(kept).Get(Tenancy.DefaultTenant));
        }
    }

    private static void Configure(Orleans.Hosting.ISiloBuilder silo) => silo.Services.TryAddSingleton(TimeProvider.System);
}
