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
