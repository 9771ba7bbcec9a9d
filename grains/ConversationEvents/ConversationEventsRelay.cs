using Confluent.Kafka;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;

namespace Kefu.Grains.ConversationEvents;

/// <summary>
/// One step of a tenant's relay, without the grain around it: read a page of the event log after the cursor, produce
/// it in cursor order, wait for every delivery report, and say how far the cursor may move — up to the first record
/// that must be tried again (the records after it are produced again next time: at least once), past records Kafka
/// refused for good (reported, so they are logged and recorded, never dropped silently).
/// </summary>
public sealed class ConversationEventsRelay(IEventLog log, IConversationEventsProducer producer, ConversationEventsOptions options)
{
    public async Task<RelayStep> StepAsync(string tenant, long cursor, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var page = await log.ReadAsync(tenant, cursor, options.TypesFilter, options.BatchSize, cancellationToken);
        if (page.Events.Length == 0)
        {
            return new RelayStep(Math.Max(cursor, page.Next), 0, [], null, page.CursorExpired, More: page.Next > cursor);
        }

        var skipped = new List<SkippedEvent>();
        var records = new List<Message<byte[], byte[]>>(page.Events.Length);
        var events = new List<StoredEvent>(page.Events.Length);
        foreach (var e in page.Events)
        {
            try
            {
                records.Add(ConversationEventRecords.Create(e, options.IsProtobuf));
                events.Add(e);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
            {
                // An event that cannot be written as a record is refused like one Kafka refuses (it stays in the log).
                skipped.Add(new SkippedEvent(e.Id.ToString(), e.Type, e.Cursor, "unencodable: " + ex.Message, now));
            }
        }

        var reports = await producer.ProduceAsync(records, cancellationToken);
        var next = cursor;
        var produced = 0;
        string? failure = null;
        var skippedAt = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            // Refused at encoding, before this one in cursor order: the cursor passes it too.
            while (skippedAt < skipped.Count && skipped[skippedAt].Cursor < e.Cursor)
            {
                next = Math.Max(next, skipped[skippedAt++].Cursor);
            }

            var report = reports[i];
            if (report.Outcome == DeliveryOutcome.Retry)
            {
                failure = report.Reason ?? "not delivered";
                break;
            }

            if (report.Outcome == DeliveryOutcome.Refused)
            {
                skipped.Add(new SkippedEvent(e.Id.ToString(), e.Type, e.Cursor, report.Reason ?? "refused", now));
            }
            else
            {
                produced++;
            }

            next = e.Cursor;
        }

        if (failure is null)
        {
            next = Math.Max(next, page.Next); // past the page's last event, and past events the type filter left out
        }
        else
        {
            skipped.RemoveAll(s => s.Cursor > next); // refused after the failure: looked at again on the retry
        }

        skipped.Sort((a, b) => a.Cursor.CompareTo(b.Cursor));
        return new RelayStep(next, produced, skipped, failure, page.CursorExpired, More: failure is null && next > cursor);
    }
}

/// <summary>
/// The outcome of one step: the cursor every event up to which is on the topic (or refused for good), how many were
/// produced, the refused ones, why the step stopped early (null: it did not), whether retention had already pruned
/// events after the old cursor, and whether to read again at once.
/// </summary>
public sealed record RelayStep(long Cursor, int Produced, IReadOnlyList<SkippedEvent> Skipped, string? Failure, bool CursorExpired, bool More);
