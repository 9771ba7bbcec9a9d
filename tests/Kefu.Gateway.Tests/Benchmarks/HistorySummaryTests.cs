using System.Text.Json;
using Kefu.Benchmarks;

namespace Kefu.Gateway.Tests.Benchmarks;

/// <summary>
/// The history benchmark's summary over its passes (issue #21 item 6: each figure the median of the passes with the
/// range), without a database: the figures, the table and the JSON that <c>--result</c> writes.
/// </summary>
public sealed class HistorySummaryTests
{
    [Fact]
    public void Figure_is_the_median_with_the_range_for_odd_and_even_counts()
    {
        Assert.Equal(new Figure(2, 1, 9), Figure.Of([9, 1, 2]));
        Assert.Equal(new Figure(3, 1, 9), Figure.Of([9, 1, 2, 4]));
        Assert.Equal(new Figure(5, 5, 5), Figure.Of([5]));
        Assert.Throws<ArgumentException>(() => Figure.Of([]));
    }

    [Fact]
    public void Figure_format_shows_the_range_only_when_there_is_one()
    {
        Assert.Equal("0.50 ms (0.40–0.90)", new Figure(0.5, 0.4, 0.9).Format("0.00", " ms"));
        Assert.Equal("1.25×", new Figure(1.25, 1.25, 1.25).Format("0.00", "×"));
    }

    [Fact]
    public void Summary_takes_each_figure_and_the_per_pass_ratio_over_the_passes()
    {
        var result = Result(
            [Stats("newest", 1.0, 2.0, 2.0, 4.0), Stats("deep", 1.0, 1.0, 1.0, 1.0)],
            [Stats("newest", 3.0, 6.0, 3.0, 9.0), Stats("deep", 2.0, 2.0, 2.0, 2.0)],
            [Stats("newest", 2.0, 5.0, 8.0, 5.0), Stats("deep", 3.0, 3.0, 3.0, 3.0)]);

        var newest = result.Summary[0];
        Assert.Equal("newest", newest.Name);
        Assert.Equal(new Figure(2, 1, 3), newest.P50Partitioned);
        Assert.Equal(new Figure(5, 2, 6), newest.P99Partitioned);
        Assert.Equal(new Figure(3, 2, 8), newest.P50Plain);
        // Plain ÷ kefu per pass: 2, 1, 4 — the median of the ratios (2), not the ratio of the medians (3 ÷ 2).
        Assert.Equal(new Figure(2, 1, 4), newest.PlainOverKefuP50);
        Assert.Equal(30, newest.RowsPartitioned);
        Assert.Equal(new Figure(2, 1, 3), result.Summary[1].P50Partitioned);

        var markdown = result.Markdown();
        Assert.Contains("median of 3 passes", markdown, StringComparison.Ordinal);
        Assert.Contains("| newest | 2.00 ms (1.00–3.00) | 5.00 ms (2.00–6.00) | 3.00 ms (2.00–8.00) |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_carries_every_pass_and_the_summary()
    {
        var result = Result([Stats("newest", 1.0, 2.0, 2.0, 4.0)], [Stats("newest", 3.0, 6.0, 3.0, 9.0)]);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result, BenchmarkRunner.Json));

        Assert.Equal(2, json.RootElement.GetProperty("passes").GetArrayLength());
        var p50 = json.RootElement.GetProperty("summary")[0].GetProperty("p50Partitioned");
        Assert.Equal(2.0, p50.GetProperty("median").GetDouble());
        Assert.Equal(1.0, p50.GetProperty("min").GetDouble());
        Assert.Equal(3.0, p50.GetProperty("max").GetDouble());
    }

    private static QueryStats Stats(string name, double p50, double p99, double plainP50, double plainP99) =>
        new(name, p50, p99, plainP50, plainP99, 10, 10);

    private static HistoryResult Result(params IReadOnlyList<QueryStats>[] passes) =>
        new("t", "plain", 1000, 10, 1, 1, 1000, 1000, 2, passes, 500, 600, 100, 80, 100, 5, 50, 30);
}
