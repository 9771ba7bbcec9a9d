using System.Text.Json;
using Kefu.Contracts.Events;

namespace Kefu.Grains.Reports;

/// <summary>
/// What the reports know about one conversation (a row of <c>kefu_report_conversation</c>): ids and numbers only, never
/// a name, a message or a CSAT comment, so erasing a contact needs nothing from the reports. <see cref="Agent"/>,
/// <see cref="Team"/>: the current assignee and team ("" when none). <see cref="ResolvedAt"/> and
/// <see cref="ResolutionMs"/> are set only while the conversation is resolved (a reopened one counts as open again).
/// <see cref="EventSeq"/>: the conversation event it was projected from; an older one never replaces a newer row.
/// </summary>
public sealed record ReportFact(
    string Tenant,
    string ConversationId,
    DateTimeOffset CreatedAt,
    string Inbox,
    string Team,
    string Agent,
    string Status,
    long? FirstResponseMs,
    DateTimeOffset? ResolvedAt,
    long? ResolutionMs,
    int? Rating,
    long EventSeq)
{
    public long CreatedS => CreatedAt.ToUnixTimeSeconds();

    public long? ResolvedS => ResolvedAt?.ToUnixTimeSeconds();

    public int? FirstResponseBucket => FirstResponseMs is { } ms ? LogHistogram.Bucket(ms) : null;

    public int? ResolutionBucket => ResolutionMs is { } ms ? LogHistogram.Bucket(ms) : null;

    /// <summary>The value of a grouping column (<see cref="Contracts.Grains.ReportGroupBy"/>).</summary>
    public string GroupKey(string groupBy) => groupBy switch
    {
        Contracts.Grains.ReportGroupBy.Agent => Agent,
        Contracts.Grains.ReportGroupBy.Team => Team,
        Contracts.Grains.ReportGroupBy.Inbox => Inbox,
        _ => "",
    };
}

/// <summary>
/// Turns a page of conversation.* events into fact rows. Every such event carries the whole conversation summary right
/// after its change, so a row is a function of the newest event alone: no state across pages, and replaying any part of
/// the log writes the same rows. message.created is not read: the first agent reply's time is the summary's
/// <c>firstResponseAt</c>, which the next conversation.* event carries (docs/reports.md "First response").
/// </summary>
public static class ReportProjection
{
    /// <summary>The event types the projector reads.</summary>
    public static readonly string[] Types =
    [
        EventTypes.ConversationCreated, EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned,
        EventTypes.ConversationTransferred, EventTypes.ConversationRated, EventTypes.ConversationUpdated,
    ];

    /// <summary>One fact per conversation of the page: from its event with the highest seq.</summary>
    public static List<ReportFact> Project(IEnumerable<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var newest = new Dictionary<string, StoredEvent>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.ConversationId is { } id && Array.IndexOf(Types, e.Type) >= 0
                && (!newest.TryGetValue(id, out var seen) || e.Seq >= seen.Seq))
            {
                newest[id] = e;
            }
        }

        var facts = new List<ReportFact>(newest.Count);
        foreach (var e in newest.Values)
        {
            if (Fact(e) is { } fact)
            {
                facts.Add(fact);
            }
        }

        return facts;
    }

    /// <summary>The fact of the conversation summary inside one event's data; null when it has none (a malformed row).</summary>
    public static ReportFact? Fact(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var document = JsonDocument.Parse(e.DataJson);
        if (!document.RootElement.TryGetProperty("conversation", out var c) || c.ValueKind != JsonValueKind.Object
            || Str(c, "id") is not { } id || Time(c, "createdAt") is not { } created)
        {
            return null;
        }

        var status = Str(c, "status") ?? "open";
        var firstResponse = Time(c, "firstResponseAt");
        var resolved = status == "resolved" ? Time(c, "resolvedAt") : null;
        int? rating = c.TryGetProperty("csat", out var csat) && csat.ValueKind == JsonValueKind.Object
            && csat.TryGetProperty("rating", out var r) && r.TryGetInt32(out var value) && value is >= 1 and <= 5 ? value : null;
        return new ReportFact(
            e.Tenant, id, created, Str(c, "inbox") ?? "", Str(c, "team") ?? "", Str(c, "assigneeId") ?? "", status,
            Millis(created, firstResponse), resolved, Millis(created, resolved), rating, e.Seq);
    }

    private static long? Millis(DateTimeOffset from, DateTimeOffset? to) =>
        to is { } t ? Math.Max(0, (long)(t - from).TotalMilliseconds) : null;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var t) ? t : null;
}
