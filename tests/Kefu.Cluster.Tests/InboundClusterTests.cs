using System.Net;
using System.Text;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Cluster mode: the deduplication record of a sender's event id is durable (MySQL grain state), so after the silo that
/// held it are killed (-9) and another starts, the same id is answered with the original answer and causes no second
/// event, and a different body is still refused.
/// </summary>
public sealed class InboundClusterTests
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Deduplication_survives_killing_the_silo()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2);
        using var admin = cluster.Http(await cluster.LoginAsync());
        var id = "erp-" + Ulid.NewUlid();
        var body = $$$"""{"id":"{{{id}}}","type":"order_status","contact":{"externalId":"u-{{{id}}}"},"data":{"status":"shipped"}}""";
        var first = await admin.PostAsync("/api/v1/webhook", Json(body));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var answer = JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.Clone();

        // Both silos that could hold the record die (one after the other, so a live silo always declares the dead one):
        // what answers next can only come from MySQL.
        var (firstSilo, secondSilo) = (cluster.Silos[0].Process, cluster.Silos[1].Process);
        await firstSilo.KillAsync();
        await cluster.StartSiloAsync();
        await secondSilo.KillAsync();

        // The gateway finds the new silo by itself; until then it answers 5xx.
        var deadline = DateTime.UtcNow + GiveUp;
        HttpResponseMessage again;
        while (true)
        {
            again = await admin.PostAsync("/api/v1/webhook", Json(body));
            if ((int)again.StatusCode < 500 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        var replayed = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(answer.Str("eventId"), replayed.Str("eventId"));
        Assert.Equal(answer.Str("contactId"), replayed.Str("contactId"));
        Assert.Equal(answer.Str("conversationId"), replayed.Str("conversationId"));

        var other = await admin.PostAsync("/api/v1/webhook", Json(body.Replace("shipped", "lost", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);

        // Right after the kill the cluster may still answer 503 unavailable for a moment (a client retries it).
        HttpResponseMessage read;
        do
        {
            read = await admin.GetAsync("/api/v1/events?types=inbound.received&limit=500");
            if (read.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }
        while (true);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var events = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement
            .GetProperty("events").EnumerateArray().Where(e => e.GetProperty("data").Str("sourceId") == id).ToList();
        Assert.Equal(answer.Str("eventId"), Assert.Single(events).Str("id"));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
