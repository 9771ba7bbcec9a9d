using System.Text;
using Confluent.Kafka;
using Kefu.Contracts.Events;
using Kefu.Contracts.Protocol;
using Kefu.Grains.ConversationEvents;
using Kefu.Grains.Events;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tests.ConversationEvents;

/// <summary>The relay's step and its records, without a cluster or a broker.</summary>
public sealed class ConversationEventsRelayStepTests
{
    private const string Tenant = "t-step";

    [Fact]
    public async Task A_delivered_page_moves_the_cursor_past_it()
    {
        var (log, events) = await LogWithAsync(5);
        var producer = new FakeProducer();
        var step = await new ConversationEventsRelay(log, producer, new ConversationEventsOptions()).StepAsync(Tenant, 0, DateTimeOffset.UtcNow);

        Assert.Null(step.Failure);
        Assert.Equal(5, step.Produced);
        Assert.Equal(5, step.Cursor);
        Assert.Equal(events.Select(e => e.Id.ToString()), producer.Produced.Select(Id));
    }

    [Fact]
    public async Task A_record_to_retry_stops_the_cursor_just_before_it()
    {
        var (log, _) = await LogWithAsync(5);
        var producer = new FakeProducer { Outcome = i => i == 2 ? DeliveryOutcome.Retry : DeliveryOutcome.Delivered };
        var relay = new ConversationEventsRelay(log, producer, new ConversationEventsOptions());
        var step = await relay.StepAsync(Tenant, 0, DateTimeOffset.UtcNow);

        Assert.NotNull(step.Failure);
        Assert.False(step.More);
        Assert.Equal(2, step.Cursor); // events 1 and 2 are on the topic; 3 (index 2) is not
        Assert.Empty(step.Skipped);

        // The next step starts at the failed record: nothing skipped (records after it are produced again).
        producer.Outcome = _ => DeliveryOutcome.Delivered;
        var again = await relay.StepAsync(Tenant, step.Cursor, DateTimeOffset.UtcNow);
        Assert.Equal(5, again.Cursor);
        Assert.Equal(3, again.Produced);
    }

    [Fact]
    public async Task A_refused_record_is_skipped_and_reported_and_the_cursor_passes_it()
    {
        var (log, events) = await LogWithAsync(4);
        var producer = new FakeProducer { Outcome = i => i == 1 ? DeliveryOutcome.Refused : DeliveryOutcome.Delivered };
        var step = await new ConversationEventsRelay(log, producer, new ConversationEventsOptions()).StepAsync(Tenant, 0, DateTimeOffset.UtcNow);

        Assert.Null(step.Failure);
        Assert.Equal(4, step.Cursor);
        Assert.Equal(3, step.Produced);
        var skipped = Assert.Single(step.Skipped);
        Assert.Equal(events[1].Id.ToString(), skipped.EventId);
    }

    [Fact]
    public async Task Only_the_configured_types_are_produced_and_the_cursor_passes_the_others()
    {
        var log = NewLog();
        var now = DateTimeOffset.UtcNow;
        await log.AppendAsync(
        [
            Event("c1", 1, "custom.a"),
            Event("c1", 2, "custom.b"),
            Event("c1", 3, "custom.a"),
        ]);
        var producer = new FakeProducer();
        var options = new ConversationEventsOptions { Types = ["custom.a"] };
        var step = await new ConversationEventsRelay(log, producer, options).StepAsync(Tenant, 0, now);

        Assert.Equal(2, producer.Produced.Count);
        Assert.Equal(3, step.Cursor);
    }

    [Fact]
    public void The_key_is_the_conversation_else_the_conversation_or_contact_the_data_names_else_the_tenant()
    {
        StoredEvent Stored(string? conversation, string data) =>
            new(1, Ulid.NewUlid(), "x.y", Tenant, conversation, conversation is null ? 0 : 1, DateTimeOffset.UtcNow, Causation.Of("test"), data);

        Assert.Equal(new RecordKey("conv-1", "conv-1"), ConversationEventRecords.Key(Stored("conv-1", "{}")));
        Assert.Equal(new RecordKey("conv-2", "conv-2"), ConversationEventRecords.Key(Stored(null, """{"sourceId":"s","conversationId":"conv-2","contactId":"k"}""")));
        Assert.Equal(new RecordKey("contact-1", null), ConversationEventRecords.Key(Stored(null, """{"sourceId":"s","contactId":"contact-1"}""")));
        Assert.Equal(new RecordKey("contact-2", null), ConversationEventRecords.Key(Stored(null, """{"contact":{"id":"contact-2","attributes":{}}}""")));
        Assert.Equal(new RecordKey(Tenant, null), ConversationEventRecords.Key(Stored(null, """{"endpointId":"e"}""")));
    }

    [Fact]
    public void A_protobuf_record_carries_the_event_envelope_and_says_so()
    {
        var e = new StoredEvent(7, Ulid.NewUlid(), EventTypes.MessageCreated, Tenant, "conv-1", 3, DateTimeOffset.UtcNow, Causation.Of("test"), "{\"a\":1}");
        var record = ConversationEventRecords.Create(e, protobuf: true);

        var envelope = EventEnvelope.Parser.ParseFrom(record.Value);
        Assert.Equal(e.Id.ToByteArray(), envelope.Id.ToByteArray());
        Assert.Equal(EventCursor.Format(7), envelope.Cursor);
        Assert.Equal("application/protobuf", Header(record, "content-type"));
        Assert.Equal("conv-1", Encoding.UTF8.GetString(record.Key));
        Assert.Equal("conv-1", Header(record, "ce_subject"));
    }

    private static string? Header(Message<byte[], byte[]> record, string name) =>
        record.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private static InMemoryEventLog NewLog() => new(Options.Create(new EventLogOptions()), TimeProvider.System);

    private static async Task<(InMemoryEventLog Log, List<DomainEvent> Events)> LogWithAsync(int count)
    {
        var log = NewLog();
        var events = Enumerable.Range(1, count).Select(i => Event("c" + (i % 2), i, "custom.test")).ToList();
        await log.AppendAsync(events);
        return (log, events);
    }

    private static DomainEvent Event(string conversation, long seq, string type) =>
        new(Ulid.NewUlid(), Tenant, conversation, seq, DateTimeOffset.UtcNow, Causation.Of("test"), new CustomEvent(type, "{}"));

    private static string Id(Message<byte[], byte[]> record) => Header(record, "ce_id")!;

    private sealed class FakeProducer : IConversationEventsProducer
    {
        public Func<int, DeliveryOutcome> Outcome { get; set; } = _ => DeliveryOutcome.Delivered;

        public List<Message<byte[], byte[]>> Produced { get; } = [];

        public Task<DeliveryReport[]> ProduceAsync(IReadOnlyList<Message<byte[], byte[]>> records, CancellationToken cancellationToken = default)
        {
            var reports = records.Select((record, i) =>
            {
                var outcome = Outcome(i);
                if (outcome == DeliveryOutcome.Delivered)
                {
                    Produced.Add(record);
                }

                return new DeliveryReport(outcome, outcome == DeliveryOutcome.Delivered ? null : "test " + outcome);
            }).ToArray();
            return Task.FromResult(reports);
        }
    }
}
