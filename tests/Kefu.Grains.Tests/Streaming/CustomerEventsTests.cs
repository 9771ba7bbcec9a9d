using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Google.Protobuf;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Inbound.Kafka;
using Kefu.Grains.Tests.Events;
using Kefu.Grains.Tests.Infrastructure;
using IntegrationProto = Kefu.Contracts.Integration;

namespace Kefu.Grains.Tests.Streaming;

/// <summary>
/// Issue #16, item 2: business events on Kafka <c>customer_events</c>, read by the <c>customer_events</c> stream provider on
/// librdkafka's mock cluster and applied through the inbound path of <c>POST /api/v1/webhook</c> — each once, whatever
/// the duplicates; what cannot be applied goes to <c>customer_events.dlq</c> with error headers and can be replayed.
/// </summary>
[Collection(KafkaStreamsCollection.Name)]
public sealed class CustomerEventsTests(KafkaStreamsFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const string Topic = "customer_events";
    private const string DeadLetterTopic = "customer_events.dlq";

    [Fact]
    public async Task EventsSentTwiceAsJsonOrAsProtobufAreEachAppliedOnce()
    {
        const int events = 40;
        var ids = Enumerable.Range(0, events).Select(i => Scenario.NewId($"order-{i}")).ToList();
        using var producer = fixture.NewProducer();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
        {
            // Every fifth one names a customer, so the contact and its conversation are found or made too.
            var contact = i % 5 == 0 ? "u-" + id : null;
            await producer.ProduceAsync(Topic, JsonRecord(id, contact));
            if (i % 4 == 0)
            {
                await producer.ProduceAsync(Topic, JsonRecord(id, contact)); // a producer's retry
            }

            if (i % 4 == 1)
            {
                await producer.ProduceAsync(Topic, ProtobufRecord(id, contact)); // the same event in the other format
            }
        }

        await FenceAsync(producer);

        var received = await ReceivedAsync(ids);
        Assert.Equal(ids.Order(StringComparer.Ordinal), received.Select(e => SourceId(e)).Order(StringComparer.Ordinal));
        Assert.All(received, e => Assert.Equal(new Causation(Causation.System, CustomerEventsConsumerGrain.CallerId, Topic), e.Causation));
        Assert.All(received.Where(e => SourceId(e).StartsWith("order-0-", StringComparison.Ordinal) || SourceId(e).StartsWith("order-5-", StringComparison.Ordinal)),
            e => Assert.NotNull(Data(e, "conversationId")));
        Assert.Empty(await DeadLettersAsync(ids));
    }

    [Fact]
    public async Task AProtobufEventWithADeadlineHeaderIsApplied()
    {
        var id = Scenario.NewId("proto");
        using var producer = fixture.NewProducer();
        var record = ProtobufRecord(id, "u-" + id);
        record.Headers.Add(CustomerEventReader.TimeoutHeader, "1500"u8.ToArray());
        await producer.ProduceAsync(Topic, record);

        var received = Assert.Single(await ReceivedAsync([id]));
        Assert.NotNull(Data(received, "conversationId"));
        using var data = JsonDocument.Parse(received.DataJson);
        Assert.Equal("shipped", data.RootElement.GetProperty("data").GetProperty("status").GetString());
        var deadline = data.RootElement.GetProperty("deadline").GetDateTimeOffset();
        Assert.InRange(deadline - received.Time, TimeSpan.FromMilliseconds(1400), TimeSpan.FromMilliseconds(1600));
    }

    [Fact]
    public async Task GarbageAndInvalidBodiesAreDeadLetteredWithErrorHeadersAndThePartitionKeepsGoing()
    {
        var marker = Scenario.NewId("bad");
        var target = new TopicPartition(Topic, 1);
        var bad = new (string Code, Message<byte[], byte[]> Record)[]
        {
            (CustomerEventReader.InvalidJson, Raw([0xFF, 0x00, 0x13, 0x37])),
            (ErrorCodes.InvalidField, Raw("[1,2,3]"u8.ToArray())),
            (ErrorCodes.MissingField, Raw("""{"type":"order_status"}"""u8.ToArray())),
            (CustomerEventReader.InvalidProtobuf, Raw([0x0A, 0xFF, 0xFF], CustomerEventReader.Protobuf)),
            (CustomerEventReader.UnsupportedMediaType, Raw("""{"id":"x","type":"y"}"""u8.ToArray(), "text/csv")),
            (ErrorCodes.InvalidField, WithHeader(JsonRecord(Scenario.NewId("bad-timeout"), null), CustomerEventReader.TimeoutHeader, "soon")),
        };
        using var producer = fixture.NewProducer();
        var offsets = new List<long>();
        foreach (var (index, (_, record)) in bad.Index())
        {
            record.Key = Encoding.UTF8.GetBytes($"{marker}-{index}");
            offsets.Add((await producer.ProduceAsync(target, record)).Offset.Value);
        }

        // A good event behind them on the same partition is applied: nothing blocked it.
        var good = Scenario.NewId("after-bad");
        await producer.ProduceAsync(target, JsonRecord(good, null));
        Assert.Single(await ReceivedAsync([good]));

        var letters = await Scenario.EventuallyAsync(() => DeadLettersAsync(bad.Select((_, i) => $"{marker}-{i}")),
            l => l.Count >= bad.Length, "the bad records on the dead-letter topic", Deadline);
        Assert.Equal(bad.Length, letters.Count);
        foreach (var (index, (code, record)) in bad.Index())
        {
            var letter = Assert.Single(letters, l => Encoding.UTF8.GetString(l.Message.Key!) == $"{marker}-{index}").Message;
            Assert.Equal(record.Value, letter.Value);
            Assert.Equal(code, Header(letter, DeadLetterHeaders.ErrorCode));
            Assert.False(string.IsNullOrEmpty(Header(letter, DeadLetterHeaders.ErrorMessage)));
            Assert.Equal(Topic, Header(letter, DeadLetterHeaders.OriginalTopic));
            Assert.Equal("1", Header(letter, DeadLetterHeaders.OriginalPartition));
            Assert.Equal(offsets[index].ToString(CultureInfo.InvariantCulture), Header(letter, DeadLetterHeaders.OriginalOffset));
            Assert.Equal("1", Header(letter, DeadLetterHeaders.Attempts));
            Assert.InRange(DateTimeOffset.Parse(Header(letter, DeadLetterHeaders.FailedAt)!, CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
            // The record's own headers travel with it.
            foreach (var header in record.Headers ?? [])
            {
                Assert.Equal(Encoding.UTF8.GetString(header.GetValueBytes()), Header(letter, header.Key));
            }
        }
    }

    [Fact]
    public async Task ATransientFailureIsRetriedUntilItSucceedsAndNotDeadLettered()
    {
        var id = Scenario.NewId("transient");
        // More failures than one delivery's attempts: Orleans has to deliver it again, maybe twice.
        fixture.InboundFailures.FailNext(id, KafkaStreamsFixture.CustomerEventsMaxAttempts * 2 + 1);
        // Neighbours on the same partition, likely in the same batch: done once, not again when the batch comes again.
        var target = new TopicPartition(Topic, 2);
        var before = Scenario.NewId("neighbour");
        var after = Scenario.NewId("neighbour");
        var garbage = Scenario.NewId("neighbour-garbage");
        using var producer = fixture.NewProducer();
        await producer.ProduceAsync(target, JsonRecord(before, null));
        await producer.ProduceAsync(target, JsonRecord(id, null));
        await producer.ProduceAsync(target, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(garbage), Value = "{oops"u8.ToArray() });
        await producer.ProduceAsync(target, JsonRecord(after, null));

        Assert.Equal(3, (await ReceivedAsync([id, before, after])).Count);
        Assert.Empty(await DeadLettersAsync([id]));
        Assert.False(fixture.InboundFailures.ShouldFail(id)); // every planned failure happened
        await FenceAsync(producer);
        Assert.Equal(3, (await ReceivedAsync([id, before, after])).Count);
        Assert.Single(await DeadLettersAsync([garbage]));
    }

    [Fact]
    public async Task ARefusedEventIsDeadLetteredAfterItsAttemptsAndAppliedOnceWhenReplayedAfterTheFix()
    {
        // An event for a conversation that does not exist (yet): refused with not_found on every attempt.
        var id = Scenario.NewId("early");
        var conversationId = Ulid.NewUlid().ToString();
        using var producer = fixture.NewProducer();
        var record = JsonRecord(id, null, conversationId);
        record.Headers.Add("trace-id", "abc"u8.ToArray());
        await producer.ProduceAsync(Topic, record);

        var letter = (await Scenario.EventuallyAsync(() => DeadLettersAsync([id]), l => l.Count > 0, "the refused event on the dead-letter topic", Deadline)).Single().Message;
        Assert.Equal(ErrorCodes.NotFound, Header(letter, DeadLetterHeaders.ErrorCode));
        Assert.Equal(KafkaStreamsFixture.CustomerEventsMaxAttempts.ToString(CultureInfo.InvariantCulture), Header(letter, DeadLetterHeaders.Attempts));
        Assert.Empty(await ReceivedAsync([id], expected: 0));

        var visitorId = Scenario.NewId("v");
        // The fix: the conversation now exists. The replay sends the record back as it was, and it is applied once.
        await fixture.Client.GetGrain<IConversationGrain>(Tenancy.Key(Tenancy.DefaultTenant, conversationId))
            .Start(new StartConversation(Tenancy.DefaultInbox, visitorId, "Ann",
                new ParticipantPresence(ParticipantKeys.Key(Tenancy.DefaultTenant, ParticipantRole.Visitor, visitorId), 0, [])));
        var replayed = new List<ConsumeResult<byte[]?, byte[]>>();
        await DeadLetterReplayer.From(fixture.Configuration).ReplayAsync(replayed.Add);
        Assert.Contains(replayed, r => r.Message.Key is { } key && Encoding.UTF8.GetString(key) == id);

        var applied = Assert.Single(await ReceivedAsync([id]));
        Assert.Equal(conversationId, Data(applied, "conversationId"));

        // Replayed again (nothing left of ours) and sent once more by the producer: still one event.
        await DeadLetterReplayer.From(fixture.Configuration).ReplayAsync();
        await producer.ProduceAsync(Topic, JsonRecord(id, null, conversationId));
        await FenceAsync(producer);
        Assert.Single(await ReceivedAsync([id]));
    }

    /// <summary>One applied event behind everything produced so far on every partition: once they are in, so is the rest.</summary>
    private async Task FenceAsync(IProducer<byte[], byte[]> producer)
    {
        var fences = new List<string>();
        for (var partition = 0; partition < KafkaStreamsFixture.Partitions; partition++)
        {
            var fence = Scenario.NewId($"fence-{partition}");
            fences.Add(fence);
            await producer.ProduceAsync(new TopicPartition(Topic, partition), JsonRecord(fence, null));
        }

        await ReceivedAsync(fences);
    }

    /// <summary>The inbound.received events of these sender ids, once <paramref name="expected"/> of them (default: all) are there.</summary>
    private async Task<List<StoredEvent>> ReceivedAsync(IReadOnlyCollection<string> ids, int? expected = null)
    {
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var log = new EventLogReader(fixture.Client, Tenancy.DefaultTenant);
        return await Scenario.EventuallyAsync(async () => (await log.AllAsync())
                .Where(e => e.Type == EventTypes.InboundReceived && wanted.Contains(SourceId(e))).ToList(),
            r => r.Count >= (expected ?? wanted.Count), $"{expected ?? wanted.Count} inbound.received events", Deadline);
    }

    private static string SourceId(StoredEvent e) => Data(e, "sourceId")!;

    private static string? Data(StoredEvent e, string member)
    {
        using var data = JsonDocument.Parse(e.DataJson);
        return data.RootElement.TryGetProperty(member, out var value) ? value.GetString() : null;
    }

    /// <summary>The dead-letter topic's records (from its start) whose key is one of <paramref name="keys"/>.</summary>
    private async Task<List<ConsumeResult<byte[]?, byte[]>>> DeadLettersAsync(IEnumerable<string> keys)
    {
        var wanted = keys.ToHashSet(StringComparer.Ordinal);
        await fixture.CreateTopicAsync(DeadLetterTopic);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
            {
                BootstrapServers = fixture.Bootstrap, GroupId = Scenario.NewId("dlq-reader"), EnableAutoCommit = false,
            })
            .SetLogHandler((_, _) => { })
            .Build();
        var partitions = Enumerable.Range(0, KafkaStreamsFixture.Partitions).Select(p => new TopicPartition(DeadLetterTopic, p)).ToList();
        var ends = partitions.ToDictionary(p => p.Partition.Value, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(5)).High.Value);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var found = new List<ConsumeResult<byte[]?, byte[]>>();
        var read = partitions.ToDictionary(p => p.Partition.Value, _ => 0L);
        var stop = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (read.Any(r => r.Value < ends[r.Key]) && DateTime.UtcNow < stop)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { Message: not null } record)
            {
                continue;
            }

            read[record.Partition.Value] = record.Offset.Value + 1;
            if (record.Message.Key is { } key && wanted.Contains(Encoding.UTF8.GetString(key)))
            {
                found.Add(record);
            }
        }

        return found;
    }

    private static string? Header(Message<byte[]?, byte[]> message, string key) =>
        message.Headers.TryGetLastBytes(key, out var value) ? Encoding.UTF8.GetString(value) : null;

    private static Message<byte[], byte[]> Raw(byte[] value, string? contentType = null)
    {
        var message = new Message<byte[], byte[]> { Value = value, Headers = [] };
        if (contentType is not null)
        {
            message.Headers.Add(CustomerEventReader.ContentTypeHeader, Encoding.UTF8.GetBytes(contentType));
        }

        return message;
    }

    private static Message<byte[], byte[]> WithHeader(Message<byte[], byte[]> message, string key, string value)
    {
        message.Headers.Add(key, Encoding.UTF8.GetBytes(value));
        return message;
    }

    /// <summary>The §3 body as JSON, keyed by its id (so a sender's retries land in the same partition, behind the original).</summary>
    private static Message<byte[], byte[]> JsonRecord(string id, string? externalId, string? conversationId = null)
    {
        var body = new Dictionary<string, object?> { ["id"] = id, ["type"] = "order_status" };
        if (conversationId is not null)
        {
            body["conversationId"] = conversationId;
        }

        if (externalId is not null)
        {
            body["contact"] = new Dictionary<string, string> { ["externalId"] = externalId, ["name"] = "Ann" };
        }

        body["data"] = new Dictionary<string, string> { ["order_id"] = "12345", ["status"] = "shipped" };
        var message = Raw(JsonSerializer.SerializeToUtf8Bytes(body), CustomerEventReader.Json);
        message.Key = Encoding.UTF8.GetBytes(id);
        return message;
    }

    /// <summary>The same event as the protobuf twin.</summary>
    private static Message<byte[], byte[]> ProtobufRecord(string id, string? externalId)
    {
        var body = new IntegrationProto.InboundEvent { Id = id, Type = "order_status", DataJson = """{"order_id":"12345","status":"shipped"}""" };
        if (externalId is not null)
        {
            body.Contact = new IntegrationProto.InboundContact { ExternalId = externalId, Name = "Ann" };
        }

        var message = Raw(body.ToByteArray(), CustomerEventReader.Protobuf);
        message.Key = Encoding.UTF8.GetBytes(id);
        return message;
    }
}
