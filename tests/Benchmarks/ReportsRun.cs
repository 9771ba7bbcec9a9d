using System.Diagnostics;
using System.Globalization;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Reports;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>reports</c>: the Reports page over a million conversations in MariaDB (docs/performance.md "Reports", docs/reports.md).
/// Loads fact rows and their rollup counters for N conversations spread over 400 days (40 agents, 5 teams, 4 inboxes;
/// 90 % resolved, a third of those rated) through <see cref="MySqlReportStore.BulkLoadAsync"/>, then times the report (aggregates + calculator, as the query grain runs
/// it) for the last week, month and year, ungrouped and grouped by agent. Also the projection's CPU cost per event and the
/// store's write cost per page, facts only and with the rollup differences.
/// Needs a database with deploy/mysql applied (<c>eval "$(scripts/mariadb.sh start)"</c>: KEFU_MYSQL).
/// </summary>
public static class ReportsRun
{
    public const string Usage = """
        reports mode: dotnet run -c Release --project tests/Benchmarks -- reports [options]
          --conversations N  fact rows to load (default 1000000)
          --repeat N         runs of each query (default 5; the median and the slowest are reported)
          --mysql CS         connection string (default: $KEFU_MYSQL)
          --tenant T         query the rows an earlier run loaded for tenant T instead of loading new ones
        """;

    /// <summary>The goal: a year's report over a million conversations in under 2 s, a week's under 200 ms.</summary>
    public const double YearTargetMs = 2000, WeekTargetMs = 200;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = int.Parse(BenchHost.Arg(args, "--conversations") ?? "1000000", CultureInfo.InvariantCulture);
        var repeat = int.Parse(BenchHost.Arg(args, "--repeat") ?? "5", CultureInfo.InvariantCulture);
        var connection = BenchHost.Arg(args, "--mysql") ?? Environment.GetEnvironmentVariable("KEFU_MYSQL")
            ?? throw new ArgumentException("--mysql or KEFU_MYSQL is required.");
        var store = new MySqlReportStore(Options.Create(new MySqlMessageStoreOptions { ConnectionString = connection }));
        var reuse = BenchHost.Arg(args, "--tenant");
        var tenant = reuse ?? $"bench-{Guid.NewGuid():N}"[..16];
        var now = DateTimeOffset.UtcNow;
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);

        Console.WriteLine($"reports: projection cost, 200000 events");
        var projection = ProjectionMicroseconds(tenant, today);
        Console.WriteLine($"  {projection:0.00} µs per event (parse + fold, one core)");

        Console.WriteLine("reports: projection write cost per 500-fact page (median of 15)");
        var (factsOnly, newPage, updatePage) = await PageCostsAsync(store, $"{tenant}-pages", today);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  facts only (the write before rollups): {factsOnly:0.0} ms; with rollup differences: new conversations {newPage:0.0} ms, updates (resolve + rate) {updatePage:0.0} ms"));

        Console.WriteLine(reuse is null ? $"reports: loading {count} conversations for tenant {tenant} (bulk: facts and their counters, no merge)" : $"reports: the rows of tenant {tenant}");
        var load = Stopwatch.StartNew();
        if (reuse is null)
        {
            // The projector's path reads and locks the stored rows of every page; a new tenant has none, so the bulk
            // path writes the same facts and counters without that (docs/performance.md "Reports").
            var random = new Random(42);
            var all = Enumerable.Range(0, count).Select(i => Fact(random, tenant, today.AddDays(1), i)).OrderBy(f => f.CreatedAt).ToList();
            foreach (var chunk in all.Chunk(20_000))
            {
                await store.BulkLoadAsync(chunk);
            }
        }

        load.Stop();
        if (reuse is null)
        {
            Console.WriteLine($"  loaded in {load.Elapsed.TotalSeconds:0.0} s ({count / load.Elapsed.TotalSeconds:0} conversations/s)");
        }

        var verdict = true;
        foreach (var (name, days) in new[] { ("week", 7), ("month", 30), ("year", 365) })
        {
            foreach (var groupBy in new[] { ReportGroupBy.None, ReportGroupBy.Agent })
            {
                var query = new ReportQuery(today.AddDays(1 - days), today.AddDays(1), 480, groupBy);
                var times = new List<double>();
                ReportOverview? overview = null;
                for (var r = 0; r < repeat + 1; r++)
                {
                    var watch = Stopwatch.StartNew();
                    overview = ReportCalculator.Build(query, await store.AggregateAsync(tenant, query));
                    watch.Stop();
                    if (r > 0)
                    {
                        times.Add(watch.Elapsed.TotalMilliseconds); // the first run warms the buffer pool
                    }
                }

                times.Sort();
                var median = times[times.Count / 2];
                var target = days == 365 ? YearTargetMs : days == 7 ? WeekTargetMs : YearTargetMs;
                verdict &= median <= target;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {name,-5} groupBy={groupBy,-5}: median {median,8:0.0} ms, max {times[^1],8:0.0} ms; {overview!.Totals.Conversations} conversations, backlog {overview.Totals.Backlog}, frt p90 {overview.Totals.FirstResponse.P90Seconds} s, {overview.Groups.Length} groups"));
            }
        }

        // The rollup's answer is the fact rows' answer (the way every report was computed before the rollup).
        foreach (var (days, groupBy) in new[] { (7, ReportGroupBy.Agent), (365, ReportGroupBy.None) })
        {
            var query = new ReportQuery(today.AddDays(1 - days), today.AddDays(1), 480, groupBy);
            var watch = Stopwatch.StartNew();
            var facts = System.Text.Json.JsonSerializer.Serialize(ReportCalculator.Build(query, await store.AggregateFactsAsync(tenant, query)));
            watch.Stop();
            var same = facts == System.Text.Json.JsonSerializer.Serialize(ReportCalculator.Build(query, await store.AggregateAsync(tenant, query)));
            verdict &= same;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {days} days groupBy={groupBy}: the fact rows answer in {watch.Elapsed.TotalMilliseconds:0} ms, {(same ? "the same report" : "A DIFFERENT REPORT")}"));
        }

        Console.WriteLine(verdict ? "reports: PASS (targets: week ≤ 200 ms, year ≤ 2 s)" : "reports: FAIL (targets: week ≤ 200 ms, year ≤ 2 s)");
        return verdict ? 0 : 1;
    }

    /// <summary>Median milliseconds to write a page of 500 facts: facts only, new conversations through the projector's path, then the same conversations resolved and rated.</summary>
    private static async Task<(double FactsOnly, double New, double Update)> PageCostsAsync(MySqlReportStore store, string tenant, DateTimeOffset today)
    {
        var random = new Random(7);
        List<double> factsOnly = [], created = [], updated = [];
        for (var page = 0; page < 16; page++)
        {
            var facts = Enumerable.Range(page * 1000, 500).Select(i => Fact(random, tenant, today, i) with
            {
                Status = "open", ResolvedAt = null, ResolutionMs = null, Rating = null, EventSeq = 1,
            }).ToList();
            var watch = Stopwatch.StartNew();
            await store.BulkLoadAsync([.. facts.Select(f => f with { Tenant = tenant + "-old" })], counters: false);
            factsOnly.Add(watch.Elapsed.TotalMilliseconds);
            watch.Restart();
            await store.UpsertAsync(facts);
            created.Add(watch.Elapsed.TotalMilliseconds);
            var resolved = facts.Select(f => f with
            {
                Status = "resolved", ResolvedAt = f.CreatedAt.AddMinutes(30), ResolutionMs = 1_800_000, Rating = 1 + (f.ConversationId[^1] % 5), EventSeq = 2,
            }).ToList();
            watch.Restart();
            await store.UpsertAsync(resolved);
            updated.Add(watch.Elapsed.TotalMilliseconds);
        }

        static double Median(List<double> times) => times.Skip(1).Order().ElementAt(times.Count / 2 - 1); // the first page warms up
        return (Median(factsOnly), Median(created), Median(updated));
    }

    private static ReportFact Fact(Random random, string tenant, DateTimeOffset end, int i)
    {
        var created = end.AddSeconds(-random.NextDouble() * 400 * 86_400);
        var id = Ulid.NewUlid(created, BitConverter.GetBytes((long)i).Concat(new byte[2]).ToArray()).ToString();
        var agent = random.Next(20) == 0 ? "" : "agent-" + random.Next(40);
        var frt = agent.Length == 0 ? (long?)null : (long)Math.Exp(6 + (random.NextDouble() * 8));
        var resolved = agent.Length > 0 && random.Next(10) > 0 ? created.AddSeconds(60 + Math.Exp(random.NextDouble() * 12)) : (DateTimeOffset?)null;
        if (resolved > end)
        {
            resolved = null;
        }

        int? rating = resolved is not null && random.Next(3) == 0 ? random.Next(1, 6) : null;
        return new ReportFact(tenant, id, created, "inbox-" + random.Next(4), random.Next(6) == 0 ? "" : "team-" + random.Next(5), agent,
            resolved is null ? "open" : "resolved", frt, resolved, resolved is { } r ? (long)(r - created).TotalMilliseconds : null, rating, 3);
    }

    private static double ProjectionMicroseconds(string tenant, DateTimeOffset day)
    {
        var events = new List<StoredEvent>(200_000);
        for (var i = 0; i < 200_000; i++)
        {
            var created = day.AddSeconds(-i);
            var s = new ConversationSummary(Ulid.NewUlid(created).ToString(), tenant, "web", "v-" + i, "Visitor", "resolved", "agent-1", 4, created, ["agent-1"],
                FirstResponseAt: created.AddSeconds(30), ResolvedAt: created.AddMinutes(20), Csat: new CsatRating(4, "fine", created.AddMinutes(21)));
            events.Add(new StoredEvent(i + 1, Ulid.NewUlid(), EventTypes.ConversationStatusChanged, tenant, s.ConversationId, 3, created, Causation.Of("bench"),
                EventJson.Data(new ConversationStatusChanged("open", "resolved", s))));
        }

        var watch = Stopwatch.StartNew();
        foreach (var page in events.Chunk(500))
        {
            ReportProjection.Project(page);
        }

        return watch.Elapsed.TotalMicroseconds / events.Count;
    }
}
