using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Reports;
using Kefu.Grains.Storage;
using Kefu.Grains.Tests.Reports;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests.Reports;

/// <summary>
/// MySqlReportStore (deploy/mysql/013-reports.sql): the upsert is idempotent and never goes back in seq, and every query
/// gives exactly the in-memory store's report on the same events.
/// </summary>
public sealed class ReportStoreTests : IAsyncLifetime
{
    private const string Tenant = "acme";
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);

    private readonly MariaDbDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    private MySqlReportStore Store() => new(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }));

    [Fact]
    public async Task Replaying_events_writes_the_same_rows_and_an_older_event_changes_nothing()
    {
        var store = Store();
        var events = ReportEventFactory.Random(Tenant, 400, seed: 11, Start, days: 20);
        await store.UpsertAsync(ReportProjection.Project(events));
        var first = await RowsAsync();

        foreach (var page in events.Chunk(37))
        {
            await store.UpsertAsync(ReportProjection.Project(page)); // replay from the start, page by page
        }

        Assert.Equal(400, first.Count);
        Assert.Equal(first, await RowsAsync());

        // Another tenant's rows and a different key space never mix.
        await store.UpsertAsync(ReportProjection.Project(ReportEventFactory.Random("other", 10, seed: 12, Start, days: 20)));
        Assert.Equal(first, await RowsAsync());
    }

    [Fact]
    public async Task Every_query_equals_the_in_memory_stores_answer()
    {
        var mysql = Store();
        var memory = new InMemoryReportStore();
        var events = ReportEventFactory.Random(Tenant, 1500, seed: 5, Start, days: 60);
        foreach (var page in events.Chunk(200))
        {
            var facts = ReportProjection.Project(page);
            await mysql.UpsertAsync(facts);
            await memory.UpsertAsync(facts);
        }

        ReportQuery[] queries =
        [
            new(Start.AddDays(20), Start.AddDays(27), 0, ReportGroupBy.None),
            new(Start.AddDays(20).AddHours(-8), Start.AddDays(50).AddHours(-8), 480, ReportGroupBy.Agent),
            new(Start.AddDays(10).AddHours(5), Start.AddDays(40).AddHours(5), -300, ReportGroupBy.Team),
            new(Start, Start.AddDays(60), 0, ReportGroupBy.Inbox, Team: "sales"),
            new(Start.AddDays(30), Start.AddDays(45), 0, ReportGroupBy.Inbox, Agent: "agent-3", Inbox: "web"),
            new(Start.AddDays(100), Start.AddDays(107), 0, ReportGroupBy.Agent), // after everything: only the backlog
        ];
        foreach (var query in queries)
        {
            var expected = ReportCalculator.Build(query, await memory.AggregateAsync(Tenant, query));
            var actual = ReportCalculator.Build(query, await mysql.AggregateAsync(Tenant, query));
            Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
            Assert.True(expected.Totals.Conversations > 0 || expected.Totals.Backlog > 0, $"the query {query} found nothing: a weak test");
        }
    }

    [Fact]
    public async Task The_rollup_answers_every_query_as_the_fact_rows_do_after_updates_replays_and_two_writers()
    {
        var mysql = Store();
        var memory = new InMemoryReportStore();
        var random = new Random(21);
        var events = ReportEventFactory.Random(Tenant, 3000, seed: 8, Start, days: 90);
        async Task Both(IReadOnlyList<ReportFact> facts, IReadOnlyList<FirstResponse>? responses = null)
        {
            await mysql.UpsertAsync(facts, responses);
            await memory.UpsertAsync(facts, responses);
        }

        foreach (var page in events.Chunk(250))
        {
            var changes = ReportProjection.ProjectPage(page);
            await Both(changes.Facts, changes.FirstResponses);
        }

        // Later changes: reassigned, transferred, resolved, reopened, rated; then agent replies of unanswered ones.
        var ids = events.Select(e => e.ConversationId!).Distinct().ToList();
        string[] agents = ["agent-1", "agent-5", "agent-20", ""];
        string[] teams = ["sales", "support", "vip", ""];
        var updates = new List<ReportFact>();
        foreach (var id in ids.Where(_ => random.Next(5) < 2))
        {
            var f = memory.Find(Tenant, id)!;
            var u = f with { Agent = agents[random.Next(agents.Length)], Team = teams[random.Next(teams.Length)], EventSeq = f.EventSeq + 10 };
            u = random.Next(3) switch
            {
                0 => u with { Status = "open", ResolvedAt = null, ResolutionMs = null },
                1 when f.ResolvedAt is null => u with
                {
                    Status = "resolved", ResolvedAt = f.CreatedAt.AddSeconds(random.Next(60, 400_000)), ResolutionMs = null, Rating = random.Next(1, 6),
                },
                _ => u,
            };
            updates.Add(u.ResolvedAt is { } r && u.ResolutionMs is null ? u with { ResolutionMs = (long)(r - u.CreatedAt).TotalMilliseconds } : u);
        }

        var (first, second) = (updates[..(updates.Count / 2)], updates[(updates.Count / 2)..]);
        await Both(first);
        // A failover: two projector activations write the same page at once. The locks make the second compute its
        // difference from the first's result, so nothing is counted twice.
        await Task.WhenAll(mysql.UpsertAsync(second).AsTask(), Store().UpsertAsync(second).AsTask(), Store().UpsertAsync(second).AsTask());
        await memory.UpsertAsync(second);
        var responses = ids.Select(id => memory.Find(Tenant, id)!).Where(f => f.FirstResponseMs is null && random.Next(2) == 0)
            .Select(f => new FirstResponse(Tenant, f.ConversationId, f.CreatedAt.AddSeconds(random.Next(1, 3_000)))).ToList();
        Assert.NotEmpty(responses);
        await Both([], [.. responses, new FirstResponse(Tenant, "01JUNKNOWNCONVERSATION0000", Start)]);
        foreach (var page in events[..(events.Count / 2)].Chunk(300))
        {
            var changes = ReportProjection.ProjectPage(page); // replayed old events: nothing changes
            await Both(changes.Facts, changes.FirstResponses);
        }

        var queries = new List<ReportQuery>();
        foreach (var (offset, fromDay, days) in new[] { (0, 0, 7), (480, 20, 31), (-300, 5, 90), (480, 40, 366), (0, 88, 7), (-300, -10, 14), (330, 20, 30), (-345, 50, 10) })
        {
            var from = Start.AddDays(fromDay).AddMinutes(-offset);
            ReportQuery Q(string groupBy, string? agent = null, string? team = null, string? inbox = null) =>
                new(from, from.AddDays(days), offset, groupBy, agent, team, inbox);
            queries.AddRange([
                Q(ReportGroupBy.None), Q(ReportGroupBy.Agent), Q(ReportGroupBy.Team), Q(ReportGroupBy.Inbox),
                Q(ReportGroupBy.None, agent: "agent-5"), Q(ReportGroupBy.Agent, agent: "agent-3"), Q(ReportGroupBy.Team, team: "sales"),
                Q(ReportGroupBy.Inbox, inbox: "web"), Q(ReportGroupBy.None, team: ""), Q(ReportGroupBy.Agent, team: "support"),
            ]);
        }

        // Every level holds the same totals: the periods of each level partition time.
        await using (var connection = new MySqlConnection(_db.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand(
                "SELECT CONCAT_WS('|', dim, metric, level, SUM(n)) FROM kefu_report_rollup WHERE tenant = @t AND dim = 'n' GROUP BY dim, metric, level ORDER BY 1", connection);
            command.Parameters.AddWithValue("@t", Tenant);
            var sums = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                sums.Add(reader.GetString(0));
            }

            Assert.Equal(5 * 4, sums.Count);
            Assert.All(sums.Chunk(4), levels => Assert.Single(levels.Select(l => l.Split('|')[3]).Distinct()));
        }

        var fromRollup = 0;
        foreach (var query in queries)
        {
            var expected = ReportCalculator.Build(query, await memory.AggregateAsync(Tenant, query));
            var facts = ReportCalculator.Build(query, await mysql.AggregateFactsAsync(Tenant, query));
            var answer = ReportCalculator.Build(query, await mysql.AggregateAsync(Tenant, query));
            Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(facts));
            Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(answer));
            Assert.True(expected.Totals.Conversations > 0 || expected.Totals.Backlog > 0, $"the query {query} found nothing: a weak test");
            fromRollup += ReportRollup.Plan(query) is null ? 0 : 1;
        }

        Assert.True(fromRollup >= 50, $"only {fromRollup} of {queries.Count} queries used the rollup");

        // The counters kept by differences equal the counters 016 computes from the final facts (its backfill).
        Assert.Equal(await CountersAsync("kefu_report_rollup"), await BackfilledCountersAsync());
    }

    private async Task<List<string>> CountersAsync(string table)
    {
        await using var connection = new MySqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            $"SELECT CONCAT_WS('|', dim, gkey, level, metric, period_s, bucket, n) FROM {table} WHERE tenant = @t AND n <> 0 ORDER BY 1", connection);
        command.Parameters.AddWithValue("@t", Tenant);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    private async Task<List<string>> BackfilledCountersAsync()
    {
        var script = await File.ReadAllTextAsync(Path.Combine(MariaDbDatabase.RepositoryRoot, "deploy", "mysql", "016-report-rollups.sql"));
        var begin = script.IndexOf("-- backfill: begin", StringComparison.Ordinal);
        var end = script.IndexOf("-- backfill: end", StringComparison.Ordinal);
        Assert.True(begin > 0 && end > begin);
        var backfill = script[begin..end].Replace("INSERT INTO kefu_report_rollup ", "INSERT INTO kefu_report_rollup_check ", StringComparison.Ordinal);
        await using (var connection = new MySqlConnection(_db.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand("CREATE TABLE kefu_report_rollup_check LIKE kefu_report_rollup;\n" + backfill, connection);
            await command.ExecuteNonQueryAsync();
        }

        return await CountersAsync("kefu_report_rollup_check");
    }

    private async Task<List<string>> RowsAsync()
    {
        await using var connection = new MySqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            "SELECT CONCAT_WS('|', conversation_id, created_s, inbox, team, agent, status, IFNULL(first_response_ms, '-'), IFNULL(frt_bucket, '-'), "
            + "IFNULL(resolved_s, '-'), IFNULL(resolution_ms, '-'), IFNULL(res_bucket, '-'), IFNULL(rating, '-'), event_seq) "
            + "FROM kefu_report_conversation WHERE tenant = @t ORDER BY conversation_id", connection);
        command.Parameters.AddWithValue("@t", Tenant);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
