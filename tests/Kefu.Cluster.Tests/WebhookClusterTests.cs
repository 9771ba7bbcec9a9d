using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Gateway.Tests.Webhooks;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Outbound webhooks on a real cluster (MariaDB, two silo processes, a gateway): delivery is at least once across the
/// loss of the silo that delivers. The endpoint's cursor and retries are grain state in MySQL; its reminder brings it
/// back on the surviving silo, which continues from the last written cursor.
/// </summary>
public sealed class WebhookClusterTests
{
    private const int Total = 1000;

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Kefu:Webhooks:AllowPrivateTargets"] = "true",
        ["Kefu:Webhooks:RetrySchedule"] = "200ms,500ms,1s,2s,3s,5s,5s,5s,5s,5s,5s,5s",
        ["Kefu:Webhooks:Jitter"] = "0.2",
        ["Kefu:Webhooks:Timeout"] = "00:00:05",
        ["Kefu:Webhooks:PollInterval"] = "00:00:00.200",
        ["Kefu:Webhooks:CircuitBreakerCooldown"] = "00:00:00.500",
    };

    [Fact]
    public async Task Killing_the_delivering_silo_during_a_burst_of_1000_events_loses_none_and_all_arrive_signed()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2, Settings);
        await using var receiver = await WebhookReceiver.StartAsync();
        // The first attempt of every event fails: each one goes through the retry schedule.
        receiver.Script = (_, attempt) => attempt == 1 ? new ReceiverAnswer(500, Body: "try again") : ReceiverAnswer.Ok;

        using var admin = cluster.Http(await cluster.LoginAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url, events = (string[])["message.created"] });
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, created.ToString());
        receiver.Secrets = [created.Str("secret")!];
        var endpointId = created.Str("id")!;

        var log = new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = cluster.Database.ConnectionString }),
            Options.Create(new EventLogOptions()), TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
        var conversation = Ulid.NewUlid().ToString();
        var events = Enumerable.Range(1, Total).Select(seq => Message(conversation, seq)).ToList();
        var expected = events.Select(e => e.Id.ToString()).ToHashSet();

        // The burst: 1 000 events in batches; once deliveries are flowing, the silo delivering them is killed.
        var victim = await cluster.SiloHostingAsync<IWebhookEndpointGrain>(Tenancy.Key(Tenancy.DefaultTenant, endpointId));
        var killedAt = -1;
        foreach (var batch in events.Chunk(50))
        {
            await log.AppendAsync(batch);
            if (killedAt < 0 && receiver.Received.Count >= 100)
            {
                killedAt = receiver.Delivered.Count(expected.Contains);
                await victim.KillAsync();
            }
        }

        if (killedAt < 0)
        {
            await WaitUntilAsync(() => receiver.Received.Count >= 100, TimeSpan.FromSeconds(60));
            killedAt = receiver.Delivered.Count(expected.Contains);
            await victim.KillAsync();
        }

        Assert.True(killedAt < Total, "every event was delivered before the kill: the test proved nothing");

        // Nothing calls the endpoint now: its reminder has to bring it back on the other silo.
        await WaitUntilAsync(() => expected.IsSubsetOf(receiver.Delivered), TimeSpan.FromMinutes(4),
            () => $"{receiver.Delivered.Count(expected.Contains)} of {Total} delivered ({killedAt} before the kill)");

        var mine = receiver.Received.Where(r => expected.Contains(r.Id)).ToList();
        Assert.All(mine, r => Assert.True(r.SignatureValid, $"{r.Id}: invalid signature {r.Signature}"));
        Assert.All(mine.Where(r => r.Answered == 200), r => Assert.Equal(r.Id, r.Envelope.Str("id")));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan giveUp, Func<string>? what = null)
    {
        var deadline = DateTime.UtcNow + giveUp;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting: " + (what?.Invoke() ?? "condition"));
            await Task.Delay(100);
        }
    }

    private static DomainEvent Message(string conversation, long seq)
    {
        var at = DateTimeOffset.UtcNow;
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", null), $"m{seq}", at, null);
        return new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, seq, at, new Causation(Causation.Visitor, "v-1"), new MessageCreated(message));
    }
}
