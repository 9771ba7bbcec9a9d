using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Cluster.Tests;

/// <summary>
/// The conversation_events relay on a real cluster (MariaDB, two silo processes, a gateway, scripts/kafka.sh's mock
/// Kafka): the silo relaying the default tenant is killed by its PID part-way through a stream of chat messages in
/// several conversations. Its cursor is grain state in MySQL and its reminder brings it back on the other silo, which
/// produces again from that cursor: every event reaches the topic at least once, and per conversation the first
/// occurrences are in seq order.
/// </summary>
public sealed class ConversationEventsClusterTests
{
    private const int Conversations = 8;
    private const int PerConversation = 100;
    private const string Topic = "conversation_events";

    [Fact]
    public async Task Killing_the_relaying_silo_part_way_loses_no_event_and_keeps_each_conversation_in_order()
    {
        await using var kafka = await KafkaServer.StartAsync();
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2, new Dictionary<string, string>
        {
            ["Kefu:Kafka:BootstrapServers"] = kafka.Bootstrap,
            ["Kefu:Kafka:ConversationEvents:PollInterval"] = "00:00:00.200",
            ["Kefu:Kafka:ConversationEvents:BatchSize"] = "50",
        });

        // The silos started the default tenant's relay when they came up.
        var client = await cluster.ClientAsync();
        var relay = client.GetGrain<IConversationEventsRelayGrain>(Tenancy.DefaultTenant);
        await WaitUntilAsync(async () => (await relay.GetStatus()).Started, TimeSpan.FromSeconds(60), () => "the relay started");
        var victim = await cluster.SiloHostingAsync<IConversationEventsRelayGrain>(Tenancy.DefaultTenant);

        var log = new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = cluster.Database.ConnectionString }),
            Options.Create(new EventLogOptions()), TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
        var conversations = Enumerable.Range(0, Conversations).Select(_ => Ulid.NewUlid().ToString()).ToList();
        var events = Enumerable.Range(0, Conversations * PerConversation)
            .Select(i => Message(conversations[i % Conversations], (i / Conversations) + 1))
            .ToList();
        var expected = events.Select(e => e.Id.ToString()).ToHashSet();

        using var reader = new TopicReader(kafka.Bootstrap, Topic);
        var killedAt = -1;
        foreach (var batch in events.Chunk(40))
        {
            await log.AppendAsync(batch);
            if (killedAt < 0 && reader.Read().Count(r => expected.Contains(r.Id)) >= 150)
            {
                killedAt = reader.Records.Count(r => expected.Contains(r.Id));
                await victim.KillAsync();
            }

            await Task.Delay(20); // a stream, not one burst: the kill lands part-way
        }

        if (killedAt < 0)
        {
            await WaitUntilAsync(() => Task.FromResult(reader.Read().Count(r => expected.Contains(r.Id)) >= 150), TimeSpan.FromSeconds(60), () => "150 events on the topic");
            killedAt = reader.Records.Count(r => expected.Contains(r.Id));
            await victim.KillAsync();
        }

        Assert.True(killedAt < expected.Count, "every event was on the topic before the kill: the test proved nothing");

        // Nothing calls the relay now: its reminder has to bring it back on the other silo.
        await WaitUntilAsync(() => Task.FromResult(expected.IsSubsetOf(reader.Read().Select(r => r.Id))), TimeSpan.FromMinutes(4),
            () => $"{reader.Records.Select(r => r.Id).Distinct().Count(expected.Contains)} of {expected.Count} on the topic ({killedAt} before the kill)");

        foreach (var conversation in conversations)
        {
            var seen = new HashSet<string>();
            var firsts = reader.Records.Where(r => r.Key == conversation && seen.Add(r.Id)).Select(r => r.Seq).ToList();
            Assert.Equal(Enumerable.Range(1, PerConversation).Select(s => (long)s), firsts);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan giveUp, Func<string> what)
    {
        var deadline = DateTime.UtcNow + giveUp;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting: " + what());
            await Task.Delay(200);
        }
    }

    private static DomainEvent Message(string conversation, long seq)
    {
        var at = DateTimeOffset.UtcNow;
        var message = new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-" + conversation, null), $"m{seq}", at, null);
        return new DomainEvent(Ulid.NewUlid(), Tenancy.DefaultTenant, conversation, seq, at, new Causation(Causation.Visitor, "v-" + conversation), new MessageCreated(message));
    }

    private sealed record TopicRecord(int Partition, long Offset, string? Key, string Id, long Seq);

    /// <summary>Follows the topic from its start on every partition; <see cref="Records"/> in offset order per partition.</summary>
    private sealed class TopicReader : IDisposable
    {
        private readonly IConsumer<string, byte[]> _consumer;

        public TopicReader(string bootstrap, string topic)
        {
            _consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrap,
                GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
                EnableAutoCommit = false,
                AllowAutoCreateTopics = true,
            }).SetLogHandler((_, _) => { }).Build();
            _consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        }

        public List<TopicRecord> Records { get; } = [];

        /// <summary>Takes what has arrived (for up to half a second) and returns everything read so far.</summary>
        public List<TopicRecord> Read()
        {
            var until = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
            while (DateTime.UtcNow < until && _consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } result)
            {
                var id = result.Message.Headers.TryGetLastBytes("ce_id", out var bytes) ? Encoding.UTF8.GetString(bytes) : "";
                using var envelope = JsonDocument.Parse(result.Message.Value);
                var seq = envelope.RootElement.TryGetProperty("seq", out var s) ? s.GetInt64() : 0;
                Records.Add(new TopicRecord(result.Partition.Value, result.Offset.Value, result.Message.Key, id, seq));
            }

            return Records;
        }

        public void Dispose() => _consumer.Dispose();
    }
}
