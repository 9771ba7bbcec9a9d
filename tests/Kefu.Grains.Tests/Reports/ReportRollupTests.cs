using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Reports;
using static Kefu.Grains.Tests.Reports.ReportEventFactory;

namespace Kefu.Grains.Tests.Reports;

/// <summary>The rollup's plain parts: counter differences, the split of a range into periods, the plan, the merge rules, first responses from messages.</summary>
public sealed class ReportRollupTests
{
    private const string Tenant = "t-rollup";
    private static readonly DateTimeOffset Day0 = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);

    private static ReportFact Fact(string agent = "alice", DateTimeOffset? resolved = null, int? rating = null, long? frtMs = 42_000, long seq = 1) =>
        new(Tenant, "c1", Day0.AddHours(9).AddMinutes(10), "web", "sales", agent, resolved is null ? "open" : "resolved", frtMs,
            resolved, resolved is { } r ? (long)(r - Day0.AddHours(9).AddMinutes(10)).TotalMilliseconds : null, rating, seq);

    [Fact]
    public void A_new_fact_adds_one_to_each_of_its_counters_at_every_level_of_every_dimension()
    {
        var delta = ReportRollup.Delta(null, Fact());

        // created and first response, 4 dimensions, 4 levels
        Assert.Equal(2 * 4 * 4, delta.Count);
        Assert.All(delta.Values, n => Assert.Equal(1, n));
        var hour = Day0.AddHours(9).ToUnixTimeSeconds();
        Assert.Contains(new RollupKey(ReportRollup.AgentDim, "alice", 0, hour, ReportRollup.Created, 0), delta.Keys);
        Assert.Contains(new RollupKey(ReportRollup.None, "", 1, Day0.ToUnixTimeSeconds(), ReportRollup.FirstResponse, LogHistogram.Bucket(42_000)), delta.Keys);
        Assert.Contains(new RollupKey(ReportRollup.TeamDim, "sales", 3, ReportRollup.Floor(hour, 64 * 86_400), ReportRollup.Created, 0), delta.Keys);
    }

    [Fact]
    public void A_reassignment_moves_the_agents_counters_and_leaves_the_others_alone()
    {
        var resolved = Day0.AddDays(1).AddHours(3);
        var delta = ReportRollup.Delta(Fact("alice", resolved, rating: 4), Fact("bob", resolved, rating: 4, seq: 2));

        Assert.All(delta.Keys, k => Assert.Equal(ReportRollup.AgentDim, k.Dim));
        Assert.All(delta, d => Assert.Equal(d.Key.Key == "bob" ? 1 : -1, d.Value));
        Assert.Equal(delta.Count(d => d.Key.Key == "bob"), delta.Count(d => d.Key.Key == "alice"));
        // created, resolved, first response, resolution, rating at 4 levels
        Assert.Equal(5 * 4, delta.Count(d => d.Key.Key == "bob"));
    }

    [Fact]
    public void Resolving_counts_the_resolution_by_its_own_hour_and_the_same_fact_again_changes_nothing()
    {
        var open = Fact();
        var resolved = Fact(resolved: Day0.AddDays(2).AddHours(5).AddMinutes(59), seq: 2);
        var delta = ReportRollup.Delta(open, resolved);

        var hour = Day0.AddDays(2).AddHours(5).ToUnixTimeSeconds();
        Assert.Equal(1, delta[new RollupKey(ReportRollup.None, "", 0, hour, ReportRollup.Resolved, 0)]);
        Assert.Equal(1, delta[new RollupKey(ReportRollup.InboxDim, "web", 0, Day0.AddHours(9).ToUnixTimeSeconds(), ReportRollup.Resolution, resolved.ResolutionBucket!.Value)]);
        Assert.DoesNotContain(delta.Keys, k => k.Metric == ReportRollup.Created);
        Assert.Empty(ReportRollup.Delta(resolved, resolved));

        // Reopened: the resolution leaves again.
        var reopened = ReportRollup.Delta(resolved, open with { EventSeq = 3 });
        Assert.Equal(-1, reopened[new RollupKey(ReportRollup.None, "", 0, hour, ReportRollup.Resolved, 0)]);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-8, 366)]
    [InlineData(5, 31)]
    [InlineData(0, 7)]
    [InlineData(13, 0)]
    public void A_range_of_whole_hours_splits_into_whole_periods_that_cover_it_exactly(int offsetHours, int days)
    {
        var from = Day0.AddHours(offsetHours).AddDays(-200).ToUnixTimeSeconds();
        var to = from + (days * 86_400L) + 3 * 3600;
        var pieces = ReportRollup.Split(from, to);

        var covered = pieces.OrderBy(p => p.Start).ToList();
        var at = from;
        foreach (var (level, start, end) in covered)
        {
            Assert.Equal(at, start);
            var size = ReportRollup.Levels[level];
            Assert.Equal(0, start % size);
            Assert.Equal(0, end % size);
            Assert.True(end > start);
            at = end;
        }

        Assert.Equal(to, at);
        Assert.True(pieces.Count <= 7, $"{pieces.Count} pieces");
        Assert.Throws<ArgumentException>(() => ReportRollup.Split(from + 1800, to));
    }

    [Fact]
    public void The_rollup_answers_whole_hour_zones_and_one_filter_on_the_grouping()
    {
        var from = Day0;
        ReportQuery Q(string groupBy, int offset = 0, string? agent = null, string? team = null, string? inbox = null) =>
            new(from.AddMinutes(-offset), from.AddDays(7).AddMinutes(-offset), offset, groupBy, agent, team, inbox);

        static string? P(ReportQuery q) => ReportRollup.Plan(q) is { } p ? $"{p.Dim}:{p.Key ?? "*"}" : null;
        Assert.Equal("n:", P(Q(ReportGroupBy.None, 480)));
        Assert.Equal("a:*", P(Q(ReportGroupBy.Agent, -300)));
        Assert.Equal("t:sales", P(Q(ReportGroupBy.None, team: "sales")));
        Assert.Equal("i:web", P(Q(ReportGroupBy.Inbox, inbox: "web")));
        Assert.Null(P(Q(ReportGroupBy.None, 330))); // +05:30: days start mid-hour
        Assert.Null(P(Q(ReportGroupBy.Agent, team: "sales")));
        Assert.Null(P(Q(ReportGroupBy.None, agent: "alice", inbox: "web")));
    }

    [Fact]
    public void An_older_fact_changes_nothing_but_a_first_response_is_never_lost_and_the_earliest_wins()
    {
        var stored = Fact(frtMs: null, seq: 5);
        Assert.Equal(stored, ReportFactMerge.Merge(stored, Fact("bob", frtMs: null, seq: 4)));
        Assert.Equal(Fact("bob", frtMs: null, seq: 6), ReportFactMerge.Merge(stored, Fact("bob", frtMs: null, seq: 6)));

        var answered = ReportFactMerge.Apply(stored, new FirstResponse(Tenant, "c1", stored.CreatedAt.AddSeconds(30)));
        Assert.Equal(30_000, answered.FirstResponseMs);
        Assert.Equal(30_000, ReportFactMerge.Merge(answered, Fact(frtMs: null, seq: 5)).FirstResponseMs); // a replay of the same event
        Assert.Equal(30_000, ReportFactMerge.Apply(answered, new FirstResponse(Tenant, "c1", stored.CreatedAt.AddSeconds(90))).FirstResponseMs);
        Assert.Equal(29_500, ReportFactMerge.Merge(answered, Fact(frtMs: 29_500, seq: 7)).FirstResponseMs);
    }

    [Fact]
    public void Only_agent_messages_are_first_responses_and_the_earliest_of_a_page_counts()
    {
        var id = Ulid.NewUlid().ToString();
        var created = Day0.AddHours(2);
        StoredEvent Message(long seq, ParticipantRole role, DateTimeOffset ts) =>
            new(seq, Ulid.NewUlid(ts), EventTypes.MessageCreated, Tenant, id, seq, ts, Causation.Of("test"),
                EventJson.Data(new MessageCreated(new ChatMessage(id, Ulid.NewUlid(ts), seq, new Sender(role, "x-" + role, null), "text", ts, null))));
        StoredEvent[] page =
        [
            Event(1, 1, new ConversationCreated(Summary(Tenant, id, created)), created),
            Message(2, ParticipantRole.Visitor, created.AddSeconds(1)),
            Message(3, ParticipantRole.Bot, created.AddSeconds(2)),
            Message(4, ParticipantRole.System, created.AddSeconds(3)),
            Message(5, ParticipantRole.Agent, created.AddSeconds(40)),
            Message(6, ParticipantRole.Agent, created.AddSeconds(70)),
        ];

        var changes = ReportProjection.ProjectPage(page);

        Assert.Single(changes.Facts);
        Assert.Equal(new FirstResponse(Tenant, id, created.AddSeconds(40)), Assert.Single(changes.FirstResponses));
        Assert.Empty(ReportProjection.ProjectPage(page[..4]).FirstResponses);
    }

    [Fact]
    public async Task The_in_memory_store_applies_a_first_response_to_a_stored_fact_only()
    {
        var store = new InMemoryReportStore();
        var fact = Fact(frtMs: null);
        await store.UpsertAsync([], [new FirstResponse(Tenant, "c1", fact.CreatedAt.AddSeconds(5))]); // no row yet: dropped
        await store.UpsertAsync([fact]);
        Assert.Null(store.Find(Tenant, "c1")!.FirstResponseMs);

        await store.UpsertAsync([], [new FirstResponse(Tenant, "c1", fact.CreatedAt.AddSeconds(5))]);
        Assert.Equal(5_000, store.Find(Tenant, "c1")!.FirstResponseMs);
    }
}
