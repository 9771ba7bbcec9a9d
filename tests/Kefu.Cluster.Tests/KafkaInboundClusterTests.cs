using System.Text.Json;
using Confluent.Kafka;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Kafka <c>customer_events</c> on a real cluster (issue #16): two silos share the topic's partitions through Orleans'
/// balancer; one is killed (-9) while events are being produced and applied. The survivor takes its partitions over
/// from their committed offsets and reads again what was applied but not committed; the sender ids (durable records in
/// MariaDB) absorb the repeats: every event is applied exactly once in the end, nothing lost.
/// </summary>
public sealed class KafkaInboundClusterTests
{
    private const string Topic = "customer_events";
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Every_event_is_applied_once_when_a_silo_is_killed_mid_stream()
    {
        await using var kafka = await KafkaServer.StartAsync();
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2, new Dictionary<string, string>
        {
            ["Kefu:Kafka:BootstrapServers"] = kafka.Bootstrap,
        });
        using var admin = cluster.Http(await cluster.LoginAsync());
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.Bootstrap, Acks = Acks.All, EnableIdempotence = true }).Build();

        const int events = 300;
        var run = Ulid.NewUlid().ToString();
        var ids = Enumerable.Range(0, events).Select(i => $"kafka-{run}-{i}").ToList();
        async Task ProduceAsync(IEnumerable<string> some)
        {
            foreach (var id in some)
            {
                // Some name a customer (contact + conversation), the others nobody.
                var body = new Dictionary<string, object> { ["id"] = id, ["type"] = "order_status", ["data"] = new Dictionary<string, string> { ["n"] = id } };
                if (id.EndsWith('0') || id.EndsWith('3'))
                {
                    body["contact"] = new Dictionary<string, string> { ["externalId"] = "u-" + id };
                }

                await producer.ProduceAsync(Topic, new Message<string, string> { Key = id, Value = JsonSerializer.Serialize(body) });
            }
        }

        // A third, then wait until the silos are applying them (both read partitions), then kill one while the rest arrive.
        await ProduceAsync(ids.Take(events / 3));
        await WaitReceivedAsync(admin, run, atLeast: 20);
        var producing = ProduceAsync(ids.Skip(events / 3));
        await cluster.Silos[0].Process.KillAsync();
        await producing;

        var received = await WaitReceivedAsync(admin, run, atLeast: events);
        Assert.Equal(ids.Order(StringComparer.Ordinal), received.Order(StringComparer.Ordinal)); // each once: no duplicate, none lost

        // A duplicate of an early event still makes nothing new (its record is in MariaDB), even after the failover.
        await ProduceAsync([ids[0]]);
        await ProduceAsync([$"kafka-{run}-fence"]);
        var after = await WaitReceivedAsync(admin, run, atLeast: events + 1);
        Assert.Equal(events + 1, after.Count);
        Assert.Equal(events + 1, after.Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>The sender ids of this run's inbound.received events, once there are at least <paramref name="atLeast"/>.</summary>
    private static async Task<List<string>> WaitReceivedAsync(HttpClient admin, string run, int atLeast)
    {
        var deadline = DateTime.UtcNow + GiveUp;
        while (true)
        {
            var ids = new List<string>();
            var after = "";
            while (true)
            {
                var page = JsonDocument.Parse(await admin.GetStringAsync($"/api/v1/events?types=inbound.received&limit=500{(after.Length > 0 ? "&after=" + after : "")}")).RootElement;
                var batch = page.GetProperty("events").EnumerateArray().ToList();
                ids.AddRange(batch.Select(e => e.GetProperty("data").Str("sourceId")!).Where(id => id.StartsWith($"kafka-{run}-", StringComparison.Ordinal)));
                if (batch.Count == 0 || page.Str("next") is not { } next || next == after)
                {
                    break;
                }

                after = next;
            }

            if (ids.Count >= atLeast)
            {
                return ids;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Only {ids.Count} of {atLeast} events were applied within {GiveUp}.");
            await Task.Delay(250);
        }
    }
}
