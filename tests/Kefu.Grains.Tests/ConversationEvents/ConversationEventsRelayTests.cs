using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.ConversationEvents;
using Kefu.Grains.Tests.Events;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ConversationEvents;

/// <summary>The relay to Kafka conversation_events on librdkafka's mock cluster (issue #16, docs/integration.md §15).</summary>
[Collection(ConversationEventsCollection.Name)]
public sealed class ConversationEventsRelayTests(ConversationEventsFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task Chat_events_reach_the_topic_keyed_by_conversation_with_cloud_events_headers_and_the_envelope_in_order()
    {
        var tenant = Scenario.NewTenant();
        await Client.GetGrain<IConversationEventsRelayGrain>(tenant).Start();
        var visitors = new List<TestVisitor>();
        var conversations = new List<(string Id, IConversationGrain Grain)>();
        for (var i = 0; i < 6; i++)
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant, "Visitor " + i);
            visitors.Add(visitor);
            conversations.Add(await Scenario.StartConversationAsync(Client, visitor));
        }

        // Many conversations interleaved: one message of each in turn.
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < visitors.Count; i++)
            {
                (await conversations[i].Grain.SendAsync(visitors[i].Caller, $"m{round}", $"message {round} of {i}")).Ok();
            }
        }

        var stored = (await new EventLogReader(Client, tenant).AllAsync()).Where(e => !EventTypes.IsExplicitOnly(e.Type)).ToList();
        Assert.True(stored.Count(e => e.Type == EventTypes.MessageCreated) >= 30);
        var records = await fixture.WaitForAsync(tenant, [.. stored.Select(e => e.Id.ToString())]);

        var byId = records.GroupBy(r => r.Id).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var e in stored)
        {
            var record = Assert.Single(byId[e.Id.ToString()]); // no failure, so no repeat
            var conversation = e.ConversationId ?? ConversationEventRecords.Key(e).ConversationId;
            Assert.Equal(conversation ?? ConversationEventRecords.Key(e).Value, record.Key);
            Assert.Equal("1.0", record.Header("ce_specversion"));
            Assert.Equal(e.Type, record.Header("ce_type"));
            Assert.Equal("/kefu/" + tenant, record.Header("ce_source"));
            Assert.Equal(EventJson.Time(e.Time), record.Header("ce_time"));
            Assert.Equal(conversation, record.Header("ce_subject"));
            Assert.Equal("application/json", record.Header("content-type"));

            // The value is the events API's envelope, byte for byte.
            Assert.Equal(Envelope(e), record.ValueText);
            using var json = JsonDocument.Parse(record.Value);
            Assert.Equal(e.Id.ToString(), json.RootElement.GetProperty("id").GetString());
            Assert.Equal(EventCursor.Format(e.Cursor), json.RootElement.GetProperty("cursor").GetString());
        }

        foreach (var (id, _) in conversations)
        {
            var ofConversation = records.Where(r => r.Key == id).ToList();
            Assert.Single(ofConversation.Select(r => r.Partition).Distinct()); // one key, one partition
            var seqs = ofConversation.OrderBy(r => r.Offset).Select(Seq).ToList();
            Assert.True(seqs.Count >= 6, $"conversation {id}: {seqs.Count} events");
            Assert.Equal(seqs.Order(), seqs);
            Assert.Equal(seqs.Count, seqs.Distinct().Count());
        }
    }

    [Fact]
    public async Task A_reactivated_relay_resumes_from_its_durable_cursor_without_loss()
    {
        var tenant = Scenario.NewTenant();
        var relay = Client.GetGrain<IConversationEventsRelayGrain>(tenant);
        await relay.Start();
        var first = await fixture.AppendAsync(tenant, Enumerable.Range(0, 40).Select(i => ($"c{i % 5}", (long)(i / 5) + 1)));
        await fixture.WaitForAsync(tenant, [.. first.Select(e => e.Id.ToString())]);
        await Scenario.EventuallyAsync(relay.GetStatus, s => s.Produced == 40, "the first 40 produced and the cursor saved");

        // The activation goes (as on a lost silo, but after its save); events keep coming; the next one reads the cursor.
        var before = (await relay.GetStatus()).ActiveSince;
        await relay.Cast<Orleans.Core.Internal.IGrainManagementExtension>().DeactivateOnIdle();
        var second = await fixture.AppendAsync(tenant, Enumerable.Range(40, 40).Select(i => ($"c{i % 5}", (long)(i / 5) + 1)));
        await relay.Poke();
        Assert.True((await relay.GetStatus()).ActiveSince > before, "the relay was not reactivated");

        var records = await fixture.WaitForAsync(tenant, [.. first.Concat(second).Select(e => e.Id.ToString())]);
        foreach (var e in first)
        {
            Assert.Single(records, r => r.Id == e.Id.ToString()); // saved before the restart: never produced again
        }

        AssertFirstOccurrencesInOrder(records);
        var status = await Scenario.EventuallyAsync(relay.GetStatus, s => s.Produced == 80, "80 produced in all");
        Assert.Equal(0, status.Skipped);
    }

    [Fact]
    public async Task Events_written_while_every_broker_is_down_all_arrive_in_order_when_they_are_back()
    {
        var tenant = Scenario.NewTenant();
        var relay = Client.GetGrain<IConversationEventsRelayGrain>(tenant);
        await relay.Start();
        var before = await fixture.AppendAsync(tenant, Enumerable.Range(0, 10).Select(i => ($"c{i % 4}", (long)(i / 4) + 1)));
        await fixture.WaitForAsync(tenant, [.. before.Select(e => e.Id.ToString())]);

        List<DomainEvent> during;
        fixture.Brokers.Down(fixture.BrokerIds);
        try
        {
            during = await fixture.AppendAsync(tenant, Enumerable.Range(10, 30).Select(i => ($"c{i % 4}", (long)(i / 4) + 1)));
            var failing = await Scenario.EventuallyAsync(relay.GetStatus, s => s.LastError is not null, "a failed delivery", TimeSpan.FromSeconds(30));
            Assert.Equal(10, failing.Produced); // nothing past the failure counts as delivered
        }
        finally
        {
            fixture.Brokers.Up(fixture.BrokerIds);
        }

        var records = await fixture.WaitForAsync(tenant, [.. before.Concat(during).Select(e => e.Id.ToString())], TimeSpan.FromSeconds(90));
        AssertFirstOccurrencesInOrder(records);
        var status = await Scenario.EventuallyAsync(relay.GetStatus, s => s.LastError is null && s.Produced >= 40, "the relay recovered");
        Assert.Equal(0, status.Skipped);
    }

    [Fact]
    public async Task A_record_Kafka_refuses_for_good_is_skipped_logged_and_recorded_and_the_others_are_delivered()
    {
        var tenant = Scenario.NewTenant();
        var relay = Client.GetGrain<IConversationEventsRelayGrain>(tenant);
        await relay.Start();
        var small1 = await fixture.AppendAsync(tenant, [("c1", 1)]);
        var big = await fixture.AppendAsync(tenant, [("c1", 2)], dataBytes: ConversationEventsFixture.MaxRecordBytes * 2);
        var small2 = await fixture.AppendAsync(tenant, [("c1", 3)]);

        var records = await fixture.WaitForAsync(tenant, [small1[0].Id.ToString(), small2[0].Id.ToString()]);
        Assert.DoesNotContain(records, r => r.Id == big[0].Id.ToString());
        var status = await Scenario.EventuallyAsync(relay.GetStatus, s => s.Skipped == 1, "the refused event recorded");
        var skipped = Assert.Single(status.LastSkipped);
        Assert.Equal(big[0].Id.ToString(), skipped.EventId);
        Assert.Contains("MsgSizeTooLarge", skipped.Reason, StringComparison.Ordinal);

        // Not lost: it is still in the event log (and so in GET /api/v1/events).
        var page = await fixture.EventLog.ReadAsync(tenant, 0, null, 10);
        Assert.Contains(page.Events, e => e.Id == big[0].Id);
    }

    [Fact]
    public async Task The_configured_tenant_relay_is_started_with_the_silo()
    {
        var relay = Client.GetGrain<IConversationEventsRelayGrain>(ConversationEventsFixture.ConfiguredTenant);
        await Scenario.EventuallyAsync(relay.GetStatus, s => s.Started, "the configured relay started", TimeSpan.FromSeconds(30));
        var events = await fixture.AppendAsync(ConversationEventsFixture.ConfiguredTenant, [("c-configured", 1)]);
        await fixture.WaitForAsync(ConversationEventsFixture.ConfiguredTenant, [events[0].Id.ToString()]);
    }

    /// <summary>Per key, the first time each event appears on the topic follows the events' seq (repeats may come later).</summary>
    internal static void AssertFirstOccurrencesInOrder(IEnumerable<TopicRecord> records)
    {
        foreach (var key in records.GroupBy(r => r.Key))
        {
            var seen = new HashSet<string>();
            var firsts = key.OrderBy(r => r.Offset).Where(r => seen.Add(r.Id)).Select(Seq).ToList();
            Assert.Equal(firsts.Order(), firsts);
        }
    }

    private static long Seq(TopicRecord record)
    {
        using var json = JsonDocument.Parse(record.Value);
        return json.RootElement.GetProperty("seq").GetInt64();
    }

    private static string Envelope(StoredEvent e)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            EventJson.WriteEnvelope(json, e);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
