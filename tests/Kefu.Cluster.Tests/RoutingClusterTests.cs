using System.Collections.Concurrent;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Routing rules on a real cluster (MariaDB, two silo processes, a gateway; issue #15): the rules come from the file each
/// silo loads, and when the silo running the tenant's router is killed (-9) in the middle of a burst of 1 000 events,
/// every event's route still runs exactly once (one route.executed per event id) — the router's cursor and the
/// executions are grain state in MySQL, and the router's reminder brings it back on the surviving silo.
/// </summary>
public sealed class RoutingClusterTests
{
    private const int Total = 1000;

    [Fact]
    public async Task Killing_the_routing_silo_during_1000_events_runs_each_route_exactly_once()
    {
        var keys = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await using var erp = await StartErpAsync(keys);
        var directory = Directory.CreateTempSubdirectory("kefu-routing-cluster-");
        var file = Path.Combine(directory.FullName, "routing.yaml");
        await File.WriteAllTextAsync(file, $$"""
            connectors:
              ERP:
                kind: http
                baseUrl: "{{erp.Urls.First()}}"
                operations:
                  sync: { method: POST, path: "/orders/{n}/sync" }
            routes:
              - id: bulk
                on: [bulk_update]
                actions:
                  - call: "ERP::sync"
                retry: 2
            """);
        try
        {
            await using var cluster = await KefuTestCluster.StartAsync(silos: 2, new Dictionary<string, string>
            {
                ["Kefu:Routing:File"] = file,
                ["Kefu:Routing:PollInterval"] = "00:00:00.200",
            });
            var client = await cluster.ClientAsync();
            var tenant = Tenancy.DefaultTenant;
            await WaitUntilAsync(async () => (await client.GetGrain<IRoutingRouterGrain>(tenant).GetStatus()).RulesetHash is not null, TimeSpan.FromSeconds(60), "the rules file to be loaded");

            var log = new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = cluster.Database.ConnectionString }),
                Options.Create(new EventLogOptions()), TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
            var events = Enumerable.Range(1, Total).Select(Inbound).ToList();
            var expected = events.Select(e => e.Id.ToString()).ToHashSet(StringComparer.Ordinal);
            var victim = await cluster.SiloHostingAsync<IRoutingRouterGrain>(tenant);
            var killedAt = -1;
            foreach (var batch in events.Chunk(50))
            {
                await log.AppendAsync(batch);
                if (killedAt < 0 && keys.Count >= 100)
                {
                    killedAt = keys.Count;
                    await victim.KillAsync();
                }
            }

            if (killedAt < 0)
            {
                await WaitUntilAsync(() => Task.FromResult(keys.Count >= 100), TimeSpan.FromSeconds(60), "100 calls before the kill");
                killedAt = keys.Count;
                await victim.KillAsync();
            }

            Assert.True(killedAt < Total, "every event ran before the kill: the test proved nothing");

            List<string> triggers = [];
            await WaitUntilAsync(async () =>
            {
                triggers = await ExecutedTriggersAsync(log, tenant, expected);
                return triggers.Distinct(StringComparer.Ordinal).Count() >= Total;
            }, TimeSpan.FromMinutes(4), $"{Total} route executions ({killedAt} calls before the kill)");

            // Settled: nothing more may come (a second execution of an event would be a second route.executed).
            await WaitUntilAsync(async () => (await client.GetGrain<IRoutingRouterGrain>(tenant).GetStatus()).InFlight == 0, TimeSpan.FromSeconds(30), "the router to settle");
            triggers = await ExecutedTriggersAsync(log, tenant, expected);
            Assert.Equal(Total, triggers.Count);
            Assert.Equal(expected.Order(StringComparer.Ordinal), triggers.Order(StringComparer.Ordinal));
            Assert.All(expected, id => Assert.True(keys.ContainsKey(id + ":bulk:0"), $"{id} was never called"));
            await log.DisposeAsync();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<List<string>> ExecutedTriggersAsync(MySqlEventLog log, string tenant, HashSet<string> expected)
    {
        var triggers = new List<string>();
        var after = 0L;
        while (true)
        {
            var page = await log.ReadAsync(tenant, after, [EventTypes.RouteExecuted], 500);
            foreach (var e in page.Events)
            {
                var trigger = JsonDocument.Parse(e.DataJson).RootElement.GetProperty("triggerEventId").GetString()!;
                if (expected.Contains(trigger))
                {
                    triggers.Add(trigger);
                }
            }

            if (page.Next <= after)
            {
                return triggers;
            }

            after = page.Next;
        }
    }

    private static DomainEvent Inbound(int n)
    {
        var at = DateTimeOffset.UtcNow;
        var data = new InboundReceived("erp-" + Ulid.NewUlid(), "bulk_update", null, null, $$"""{"n":{{n}}}""");
        return new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, null, 0, at, new Causation(Causation.ApiKey, "key-1", "ERP"), data);
    }

    /// <summary>A loopback ERP that counts each idempotency key and answers after a few milliseconds (so calls are in flight at the kill).</summary>
    private static async Task<WebApplication> StartErpAsync(ConcurrentDictionary<string, int> keys)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(async context =>
        {
            keys.AddOrUpdate(context.Request.Headers["Idempotency-Key"].ToString(), 1, (_, n) => n + 1);
            await Task.Delay(20, context.RequestAborted);
            context.Response.StatusCode = 200;
        });
        await app.StartAsync();
        return app;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan giveUp, string what)
    {
        var deadline = DateTime.UtcNow + giveUp;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting: " + what);
            await Task.Delay(100);
        }
    }
}
