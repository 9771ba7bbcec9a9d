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
/// The first agent message of a conversation as a message.created event shows it (<see cref="ReportProjection.ProjectPage"/>):
/// it sets the stored fact's first response when the fact has none yet, without waiting for a later conversation.* event.
/// </summary>
public sealed record FirstResponse(string Tenant, string ConversationId, DateTimeOffset At);

/// <summary>A page's changes: the facts of its conversation.* events and the first responses of its agent messages.</summary>
public sealed record ReportChanges(IReadOnlyList<ReportFact> Facts, IReadOnlyList<FirstResponse> FirstResponses);

/// <summary>
/// How a stored fact changes (both stores use it, so they keep the same rows). A fact from an event at least as new as the
/// stored row's replaces it (a replay of the same event writes the same values); an older one changes nothing. The first
/// response never goes back and is the earliest one known: the conversation grain sets <c>firstResponseAt</c> once, on the
/// first agent message, so the summary's value and that message's time are the same, and a later agent message can only
/// be later — the minimum is right whichever arrives first and whatever is replayed.
/// </summary>
public static class ReportFactMerge
{
    public static ReportFact Merge(ReportFact? stored, ReportFact incoming)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        if (stored is null)
        {
            return incoming;
        }

        // created_s is part of the key and never changes for a conversation: keep the stored one.
        var winner = incoming.EventSeq >= stored.EventSeq ? incoming with { CreatedAt = stored.CreatedAt } : stored;
        return winner with { FirstResponseMs = Earliest(stored.FirstResponseMs, incoming.FirstResponseMs) };
    }

    public static ReportFact Apply(ReportFact stored, FirstResponse response)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(response);
        // From the creation's whole second, as the MySQL row keeps it, so both stores compute the same value: at most a
        // second more than the summary's, which replaces it (the earlier) when a later conversation.* event arrives.
        var ms = Math.Max(0, (long)(response.At - DateTimeOffset.FromUnixTimeSeconds(stored.CreatedS)).TotalMilliseconds);
        return stored with { FirstResponseMs = Earliest(stored.FirstResponseMs, ms) };
    }

    private static long? Earliest(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}

/// <summary>
/// Turns a page of events into fact rows. Every conversation.* event carries the whole conversation summary right after
/// its change, so a row is a function of the newest event alone: no state across pages, and replaying any part of the log
/// writes the same rows. message.created events of an agent give the first response as soon as it is sent
/// (<see cref="FirstResponse"/>); visitor, bot and system messages are not responses (the grain's rule for
/// <c>firstResponseAt</c>).
/// </summary>
public static class ReportProjection
{
    /// <summary>The event types the projector reads.</summary>
    public static readonly string[] Types =
    [
        EventTypes.ConversationCreated, EventTypes.ConversationStatusChanged, EventTypes.ConversationAssigned,
        EventTypes.ConversationTransferred, EventTypes.ConversationRated, EventTypes.ConversationUpdated,
    ];

    /// <summary>What the projector reads: <see cref="Types"/> and message.created.</summary>
    public static readonly string[] ReadTypes = [.. Types, EventTypes.MessageCreated];

    /// <summary>The facts of the page (<see cref="Project"/>) and, per conversation, its earliest agent message in the page.</summary>
    public static ReportChanges ProjectPage(IReadOnlyList<StoredEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var responses = new Dictionary<string, FirstResponse>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Type == EventTypes.MessageCreated && e.ConversationId is { } id && AgentReply(e) is { } at
                && (!responses.TryGetValue(id, out var seen) || at < seen.At))
            {
                responses[id] = new FirstResponse(e.Tenant, id, at);
            }
        }

        return new ReportChanges(Project(events), [.. responses.Values]);
    }

    /// <summary>The time of a message.created event's message when an agent sent it; null for anyone else or a message that is gone.</summary>
    public static DateTimeOffset? AgentReply(StoredEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        using var document = JsonDocument.Parse(e.DataJson);
        return document.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.Object
            && m.TryGetProperty("sender", out var sender) && sender.ValueKind == JsonValueKind.Object && Str(sender, "role") == "agent"
            ? Time(m, "ts")
            : null;
    }

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
        if (resolved < created)
        {
            // Silo clocks may disagree by a little. A resolution never precedes the creation in the reports, which the
            // backlog's arithmetic relies on (MySqlReportStore: open at the start from the rollup).
            resolved = created;
        }

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
