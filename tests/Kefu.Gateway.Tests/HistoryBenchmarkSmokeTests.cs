using Kefu.Benchmarks;
using MySqlConnector;

namespace Kefu.Gateway.Tests;

/// <summary>
/// The history benchmark (tests/Benchmarks HistoryRun, docs/performance.md "History at scale") with tiny numbers against
/// the suite's MariaDB (KEFU_MYSQL, deploy/mysql applied by scripts/mariadb.sh): it loads both tables, reads through the
/// store and the plain SQL in two passes (summarised as median and range), and removes what it loaded.
/// </summary>
public sealed class HistoryBenchmarkSmokeTests
{
    [Fact]
    public async Task HistoryBenchmark_loads_both_tables_reads_the_same_rows_and_cleans_up()
    {
        var connection = Environment.GetEnvironmentVariable("KEFU_MYSQL") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("KEFU_MYSQL is not set: run the suite with ./scripts/test.sh, or `eval \"$(scripts/mariadb.sh start)\"` first.");
        var lines = new List<string>();

        var result = await HistoryRun.RunAsync(new HistoryOptions(connection, Messages: 2_000, Conversations: 50, Queries: 40, Connections: 2, Keep: false, Passes: 2), lines.Add, CancellationToken.None);

        Assert.Equal(2_000, result.CountPartitioned);
        Assert.Equal(2_000, result.CountPlain);
        Assert.True(result.LoadSecondsPartitioned > 0 && result.LoadSecondsPlain > 0, string.Join('\n', lines));
        Assert.Equal(2, result.Passes.Count);
        foreach (var pass in result.Passes)
        {
            Assert.Equal(3, pass.Count);
            foreach (var q in pass)
            {
                Assert.True(q.P50Partitioned > 0 && q.P99Partitioned >= q.P50Partitioned && q.P50Plain > 0 && q.P99Plain >= q.P50Plain, q.ToString());
                Assert.True(q.RowsPartitioned > 0 && q.RowsPartitioned == q.RowsPlain, q.ToString()); // both tables answer with the same rows
            }

            // The deep page reads a full page every time (the long conversation has 600 messages).
            Assert.Equal(40L * HistoryRun.PageSize, pass[1].RowsPartitioned);
        }

        // The summary: each figure the median of the two passes (their mean) within their range; rows summed.
        Assert.Equal(3, result.Summary.Count);
        for (var k = 0; k < 3; k++)
        {
            var (a, b, summary) = (result.Passes[0][k], result.Passes[1][k], result.Summary[k]);
            Assert.Equal((a.P50Partitioned + b.P50Partitioned) / 2, summary.P50Partitioned.Median, 9);
            Assert.Equal(Math.Min(a.P99Plain, b.P99Plain), summary.P99Plain.Min, 9);
            Assert.Equal(Math.Max(a.P99Plain, b.P99Plain), summary.P99Plain.Max, 9);
            Assert.Equal(a.RowsPlain + b.RowsPlain, summary.RowsPlain);
        }

        Assert.Contains("median of 2 passes", result.Markdown(), StringComparison.Ordinal);
        Assert.True(result.PartitionsWithRows > 1, $"{result.PartitionsWithRows} partitions hold rows");
        Assert.True(result.BrotliRows > 0 && result.StoredBytesOfCompressed < result.RawBytesOfCompressed, result.ToString());
        Assert.True(result.BodyBytesStored < result.BodyBytesRaw && result.BodyBytesPlain == result.BodyBytesRaw, result.ToString());
        Assert.True(result.BytesPerMessagePlain > 0, result.ToString());
        Assert.Contains("| newest page |", result.Markdown(), StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains("pass 2/2", StringComparison.Ordinal));

        await using var db = new MySqlConnection(connection);
        await db.OpenAsync();
        await using var rows = new MySqlCommand("SELECT COUNT(*) FROM kefu_message WHERE tenant = @tenant", db);
        rows.Parameters.AddWithValue("@tenant", result.Tenant);
        Assert.Equal(0L, Convert.ToInt64(await rows.ExecuteScalarAsync()));
        await using var table = new MySqlCommand("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table", db);
        table.Parameters.AddWithValue("@table", result.PlainTable);
        Assert.Equal(0L, Convert.ToInt64(await table.ExecuteScalarAsync()));
    }
}
