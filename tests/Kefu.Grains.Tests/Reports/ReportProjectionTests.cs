using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Reports;
using static Kefu.Grains.Tests.Reports.ReportEventFactory;

namespace Kefu.Grains.Tests.Reports;

/// <summary>The projection from events to fact rows, the histogram and the calculator: plain classes, no cluster.</summary>
public sealed class ReportProjectionTests
{
    private const string Tenant = "t-reports";
    private static readonly DateTimeOffset Day0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_fact_comes_from_the_newest_event_and_holds_ids_and_numbers_only()
    {
        var id = Ulid.NewUlid().ToString();
        var created = Day0.AddHours(9);
        var s = Summary(Tenant, id, created, "web", "queued", team: "sales");
        var assigned = s with { Status = "open", AssigneeId = "alice", FirstResponseAt = created.AddSeconds(42) };
        var resolved = assigned with { Status = "resolved", ResolvedAt = created.AddMinutes(30) };
        var rated = resolved with { Csat = new CsatRating(4, "secret words", created.AddMinutes(31)) };
        StoredEvent[] events =
        [
            Event(1, 1, new ConversationCreated(s), created),
            Event(2, 2, new ConversationAssigned("alice", null, null, assigned), created.AddSeconds(5)),
            Event(4, 4, new ConversationRated(rated.Csat!, rated), created.AddMinutes(31)),
            Event(3, 3, new ConversationStatusChanged("open", "resolved", resolved), created.AddMinutes(30)),
        ];

        var fact = Assert.Single(ReportProjection.Project(events));

        Assert.Equal(new ReportFact(Tenant, id, created, "web", "sales", "alice", "resolved", 42_000, created.AddMinutes(30), 1_800_000, 4, 4), fact);
        Assert.DoesNotContain("secret", fact.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Visitor Name", fact.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_reopened_conversation_is_open_again_and_has_no_resolution()
    {
        var id = Ulid.NewUlid().ToString();
        var s = Summary(Tenant, id, Day0, agent: "bob", status: "open", resolved: Day0.AddHours(1));
        var fact = Assert.Single(ReportProjection.Project([Event(7, 5, new ConversationStatusChanged("resolved", "open", s), Day0.AddHours(2))]));

        Assert.Equal("open", fact.Status);
        Assert.Null(fact.ResolvedAt);
        Assert.Null(fact.ResolutionMs);
    }

    [Fact]
    public async Task Replaying_the_log_in_any_page_size_gives_the_same_rows()
    {
        var events = Random(Tenant, 300, seed: 7, Day0, days: 10);
        var once = new InMemoryReportStore();
        await Project(once, events, pageSize: events.Count);

        var replayed = new InMemoryReportStore();
        await Project(replayed, events, pageSize: 17);
        await Project(replayed, events[..(events.Count / 2)], pageSize: 5); // a rewind half way: older events change nothing
        await Project(replayed, events, pageSize: 64);

        var ids = events.Select(e => e.ConversationId!).Distinct().ToList();
        Assert.Equal(300, ids.Count);
        Assert.All(ids, id => Assert.Equal(once.Find(Tenant, id), replayed.Find(Tenant, id)));
        var query = new ReportQuery(Day0, Day0.AddDays(10), 0, ReportGroupBy.Agent);
        Assert.Equal(Json(await Overview(once, query)), Json(await Overview(replayed, query)));
    }

    [Fact]
    public async Task Days_backlog_percentiles_and_csat_follow_the_facts()
    {
        var store = new InMemoryReportStore();
        // Before the range: one still open (backlog), one resolved inside the range, one resolved before it.
        await Fact(store, "c0", Day0.AddDays(-3), "alice", frtSeconds: 10, resolvedAt: null);
        await Fact(store, "c1", Day0.AddDays(-2), "alice", frtSeconds: 10, resolvedAt: Day0.AddHours(5));
        await Fact(store, "c2", Day0.AddDays(-2), "bob", frtSeconds: 10, resolvedAt: Day0.AddDays(-1));
        // In the range: day 0 three conversations, day 1 one (at 23:30 UTC: the next day at +08:00).
        await Fact(store, "c3", Day0.AddHours(1), "alice", frtSeconds: 20, resolvedAt: Day0.AddHours(2), rating: 5);
        await Fact(store, "c4", Day0.AddHours(3), "alice", frtSeconds: 40, resolvedAt: Day0.AddHours(7), rating: 3);
        await Fact(store, "c5", Day0.AddHours(4), "bob", frtSeconds: 60, resolvedAt: null);
        await Fact(store, "c6", Day0.AddDays(1).AddHours(23.5), "", frtSeconds: null, resolvedAt: null);

        var utc = await Overview(store, new ReportQuery(Day0, Day0.AddDays(3), 0, ReportGroupBy.Agent));

        Assert.Equal([3L, 1, 0], utc.Days.Select(d => d.Conversations));
        Assert.Equal([3L, 0, 0], utc.Days.Select(d => d.Resolved)); // c1, c3, c4
        Assert.Equal([2L, 3, 3], utc.Days.Select(d => d.Backlog)); // open before: c0, c1 → +3 −3 = 2; +1 = 3
        Assert.Equal(new DateOnly(2026, 3, 2), utc.Days[0].Date);
        Assert.Equal(4, utc.Totals.Conversations);
        Assert.Equal(3, utc.Totals.Resolved);
        Assert.Equal(3, utc.Totals.Backlog);
        Assert.Equal(3, utc.Totals.FirstResponse.Count);
        Near(40, utc.Totals.FirstResponse.MedianSeconds);
        Near(60, utc.Totals.FirstResponse.P90Seconds);
        Assert.Equal(2, utc.Totals.Csat.Count);
        Assert.Equal(4.0, utc.Totals.Csat.Average);
        Assert.Equal([0L, 0, 1, 0, 1], utc.Totals.Csat.Distribution);

        var alice = Assert.Single(utc.Groups, g => g.Key == "alice");
        Assert.Equal((2L, 3L, 1L), (alice.Conversations, alice.Resolved, alice.Backlog)); // open before c0, c1; +c3, c4; −c1, c3, c4
        Assert.Equal(["alice", "", "bob"], utc.Groups.Select(g => g.Key)); // by conversations, then key

        var east = await Overview(store, new ReportQuery(Day0.AddHours(-8), Day0.AddDays(3).AddHours(-8), 8 * 60, ReportGroupBy.None, Agent: null));
        Assert.Equal([3L, 0, 1], east.Days.Select(d => d.Conversations));
        Assert.Empty(east.Groups);

        var bobOnly = await Overview(store, new ReportQuery(Day0, Day0.AddDays(3), 0, ReportGroupBy.None, Agent: "bob"));
        Assert.Equal(1, bobOnly.Totals.Conversations);
        Assert.Equal(1, bobOnly.Totals.Backlog);
    }

    [Fact]
    public void Histogram_percentiles_are_within_two_and_a_half_percent()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 20_000).Select(_ => (long)Math.Exp(random.NextDouble() * 18)).ToList();
        var counts = values.GroupBy(LogHistogram.Bucket).Select(g => (g.Key, g.LongCount())).ToList();
        values.Sort();
        foreach (var q in new[] { 0.5, 0.9, 0.99 })
        {
            var exact = values[(int)Math.Ceiling(q * values.Count) - 1] / 1000.0;
            var estimate = LogHistogram.Percentile(counts, q)!.Value;
            Assert.InRange(estimate, exact * 0.975 - 0.001, exact * 1.025 + 0.001);
        }

        Assert.Null(LogHistogram.Percentile([], 0.5));
        Assert.Equal(0, LogHistogram.Seconds(LogHistogram.Bucket(0)));
    }

    private static void Near(double expected, double? actual) => Assert.InRange(actual!.Value, expected * 0.975, expected * 1.025);

    private static ValueTask Fact(InMemoryReportStore store, string id, DateTimeOffset created, string agent, double? frtSeconds, DateTimeOffset? resolvedAt, int? rating = null) =>
        store.UpsertAsync([new ReportFact(Tenant, id, created, "web", "", agent, resolvedAt is null ? "open" : "resolved",
            frtSeconds is { } f ? (long)(f * 1000) : null, resolvedAt, resolvedAt is { } r ? (long)(r - created).TotalMilliseconds : null, rating, 1)]);

    private static async Task Project(InMemoryReportStore store, List<StoredEvent> events, int pageSize)
    {
        foreach (var page in events.Chunk(pageSize))
        {
            await store.UpsertAsync(ReportProjection.Project(page));
        }
    }

    private static async Task<ReportOverview> Overview(IReportStore store, ReportQuery query) =>
        ReportCalculator.Build(query, await store.AggregateAsync(Tenant, query));

    internal static string Json(ReportOverview overview) => System.Text.Json.JsonSerializer.Serialize(overview);
}
