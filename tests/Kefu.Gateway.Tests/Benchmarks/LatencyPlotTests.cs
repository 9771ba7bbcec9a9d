using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using Kefu.Benchmarks;

namespace Kefu.Gateway.Tests.Benchmarks;

/// <summary>
/// Latency under load (issue #21 item 3): docs/performance/measure-latency.sh builds its table and plot with the tool's
/// <c>latency-plot</c> from the runs' JSON, so the medians, ranges, capacity and the SVG's content are checked here
/// without a cluster or a browser.
/// </summary>
public sealed class LatencyPlotTests : IDisposable
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kefu-latency-plot-" + Guid.NewGuid().ToString("N"));

    public LatencyPlotTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Spread_is_the_median_with_min_and_max()
    {
        Assert.Equal(new Spread(2, 1, 3), Spread.Of([3, 1, 2]));
        Assert.Equal(new Spread(2.5, 1, 4), Spread.Of([4, 1, 3, 2]));
        Assert.Equal(new Spread(5, 5, 5), Spread.Of([5]));
        Assert.Null(Spread.Of([]));
    }

    [Fact]
    public void Report_takes_the_capacity_from_the_closed_runs_and_each_level_from_its_rate_runs()
    {
        var report = LatencyReport.Build(Samples());

        var embedded = Assert.Single(report.Capacities, c => c.Mode == "embedded");
        Assert.Equal(new Spread(10_000, 9_000, 11_000), embedded.Delivered);
        Assert.Equal((3, 3), (embedded.RunsOk, embedded.Runs));
        Assert.Equal(8_000, report.CapacityOf("cluster"));

        Assert.Equal(["embedded/25", "embedded/50", "cluster/25", "cluster/50"], report.Points.Select(p => $"{p.Mode}/{p.Level}"));
        var cluster50 = report.Points.Single(p => p.Mode == "cluster" && p.Level == 50);
        Assert.Equal(4_000, cluster50.OfferedPerSecond); // 2 × the visitors' rate of 2 000
        Assert.Equal(new Spread(20, 10, 30), cluster50.P99Ms);
        Assert.Equal(new Spread(2, 1, 3), cluster50.P50Ms);
        Assert.Equal(new Spread(60, 30, 90), cluster50.P999Ms);
        // One run counted errors, one wrote no JSON: both are runs, neither is ok, only the first adds figures.
        Assert.Equal((1, 3), (cluster50.RunsOk, cluster50.Runs));
        var embedded25 = report.Points.Single(p => p.Mode == "embedded" && p.Level == 25);
        Assert.Equal(new Spread(2, 2, 2), embedded25.P99Ms);
    }

    [Fact]
    public void Markdown_has_one_row_per_mode_and_level_with_median_and_range_and_says_whether_the_target_is_met()
    {
        var report = LatencyReport.Build(Samples());

        var md = report.ToMarkdown("header line", new LatencyTarget());

        Assert.StartsWith("header line", md, StringComparison.Ordinal);
        Assert.Contains("| mode | load (% of capacity) | offered deliveries/s | delivered/s | e2e p50 ms | e2e p99 ms | e2e p99.9 ms |", md, StringComparison.Ordinal);
        Assert.Contains("| cluster | 50 % | 4 000 | 4 000 (3 900–4 100) | 2.00 (1.00–3.00) | 20.0 (10.0–30.0) | 60.0 (30.0–90.0) |", md, StringComparison.Ordinal);
        Assert.Contains("| 1/3 |", md, StringComparison.Ordinal);
        Assert.Contains("Capacity, embedded: 10 000 (9 000–11 000) delivered msgs/s", md, StringComparison.Ordinal);
        Assert.Contains("Target: cluster p99 ≤ 25.0 ms at 50 % — met", md, StringComparison.Ordinal);
        Assert.Contains("— NOT met", report.ToMarkdown(null, new LatencyTarget(Ms: 15)), StringComparison.Ordinal);
        Assert.Contains("— not measured", report.ToMarkdown(null, new LatencyTarget(Level: 75)), StringComparison.Ordinal);
    }

    [Fact]
    public void Svg_has_axes_a_series_per_mode_and_percentile_range_bars_and_the_target_line_on_a_log_scale()
    {
        var report = LatencyReport.Build(Samples());

        var doc = XDocument.Parse(LatencySvg.Write(report, new LatencyTarget(), "title <&>"));

        var root = doc.Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Contains(root.Descendants(Svg + "text"), t => t.Value == "title <&>");
        Assert.Single(root.Descendants(Svg + "line"), l => (string?)l.Attribute("class") == "x-axis");
        Assert.Single(root.Descendants(Svg + "line"), l => (string?)l.Attribute("class") == "y-axis");
        Assert.Contains(root.Descendants(Svg + "text"), t => t.Value.Contains("% of the closed-loop capacity", StringComparison.Ordinal));
        Assert.Contains(root.Descendants(Svg + "text"), t => t.Value.Contains("latency (ms)", StringComparison.Ordinal));
        Assert.Equal(["0 %", "25 %", "50 %", "75 %", "100 %"], Group(root, "x-ticks").Elements(Svg + "text").Select(t => t.Value));

        var series = root.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "series").ToList();
        Assert.Equal(
            ["embedded p50", "embedded p99", "embedded p99.9", "cluster p50", "cluster p99", "cluster p99.9"],
            series.Select(g => $"{g.Attribute("data-mode")!.Value} {g.Attribute("data-percentile")!.Value}"));
        var clusterP99 = series.Single(g => g.Attribute("data-mode")!.Value == "cluster" && g.Attribute("data-percentile")!.Value == "p99");
        Assert.Single(clusterP99.Elements(Svg + "polyline"));
        var point = clusterP99.Elements(Svg + "g").Single(g => g.Attribute("data-level")!.Value == "50");
        Assert.Equal(("20", "10", "30"), (point.Attribute("data-median")!.Value, point.Attribute("data-min")!.Value, point.Attribute("data-max")!.Value));
        var range = point.Elements(Svg + "line").Single(l => (string?)l.Attribute("class") == "range");
        var (rangeLow, rangeHigh) = (Num(range, "y1"), Num(range, "y2"));
        var median = Num(point.Element(Svg + "circle")!, "cy");
        Assert.True(rangeHigh < median && median < rangeLow, "the bar spans min (below) to max (above) around the median");

        // Log scale: 1 → 10 ms is as tall as 10 → 100 ms; 25 ms lies between the 20 and 50 ms gridlines.
        var ticks = Group(root, "y-ticks").Elements(Svg + "text").ToDictionary(t => t.Value, t => Num(t, "y"));
        Assert.True(Math.Abs(ticks["1"] - ticks["10"] - (ticks["10"] - ticks["100"])) <= 0.2, "coordinates are rounded to 0.1 px");
        Assert.True(ticks["1"] - ticks["10"] > 100, "a decade is a good part of the plot's height");
        var target = Group(root, "target");
        Assert.Equal("25", target.Attribute("data-ms")!.Value);
        var targetY = Num(target.Element(Svg + "line")!, "y1") + 4; // tick labels sit 4 px below their line
        Assert.True(targetY < ticks["20"] && targetY > ticks["50"]);
        Assert.Contains("cluster p99 ≤ 25 ms at 50 %", target.Element(Svg + "text")!.Value, StringComparison.Ordinal);
        Assert.Contains(root.Descendants(Svg + "text"), t => t.Value == "cluster (100 % = 8 000/s)");
    }

    [Fact]
    public async Task Latency_plot_reads_the_runs_json_named_by_the_manifest_and_writes_table_json_and_svg()
    {
        var lines = new List<string>();
        foreach (var (kind, level, i, delivered, rate) in new[] { ("capacity", 0, 1, 9_000.0, (double?)null), ("capacity", 0, 2, 10_000.0, null), ("level", 50, 1, 5_000.0, 2_500.0) })
        {
            var path = Path.Combine(_dir, $"{kind}-{i}.json");
            var result = new BenchmarkResult { Runs = [Run(delivered, 4, rate, errors: 0)] };
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, BenchmarkRunner.Json));
            lines.Add($"embedded\t{kind}\t{level}\t{i}\t0\t{path}");
        }

        lines.Add($"embedded\tlevel\t50\t2\t1\t{Path.Combine(_dir, "never-written.json")}");
        var manifest = Path.Combine(_dir, "runs.tsv");
        await File.WriteAllLinesAsync(manifest, lines);
        var (md, json, svg) = (Path.Combine(_dir, "out", "l.md"), Path.Combine(_dir, "out", "l.json"), Path.Combine(_dir, "l.svg"));

        var code = await LatencyPlotRun.RunAsync(["--runs", manifest, "--md", md, "--json", json, "--svg", svg, "--target-mode", "embedded"], CancellationToken.None);

        Assert.Equal(0, code);
        Assert.Contains("| embedded | 50 % | 5 000 | 5 000 | 0.40 | 4.00 | 12.0 | 4.00 | 1/2 |", await File.ReadAllTextAsync(md), StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        Assert.Equal(9_500, doc.RootElement.GetProperty("capacities")[0].GetProperty("delivered").GetProperty("median").GetDouble());
        Assert.Equal(Svg + "svg", XDocument.Parse(await File.ReadAllTextAsync(svg)).Root!.Name);
        Assert.Equal(3, await LatencyPlotRun.RunAsync(["--runs", manifest, "--capacity", "cluster"], CancellationToken.None));
    }

    [Fact]
    public void Manifest_lines_that_are_not_runs_are_refused()
    {
        Assert.Single(LatencyRunEntry.ParseManifest(["cluster\tlevel\t25\t1\t0\tx.json", ""]));
        Assert.Throws<ArgumentException>(() => LatencyRunEntry.ParseManifest(["cluster\tclosed\t25\t1\t0\tx.json"]));
    }

    private static XElement Group(XElement root, string cls) =>
        root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("class") == cls);

    private static double Num(XElement e, string attribute) => double.Parse(e.Attribute(attribute)!.Value, CultureInfo.InvariantCulture);

    private static List<LatencySample> Samples() =>
    [
        new("embedded", LatencyRunEntry.Capacity, 0, 0, Run(11_000, 1, null, 0)),
        new("embedded", LatencyRunEntry.Capacity, 0, 0, Run(9_000, 1, null, 0)),
        new("embedded", LatencyRunEntry.Capacity, 0, 0, Run(10_000, 1, null, 0)),
        new("embedded", LatencyRunEntry.LevelKind, 50, 0, Run(5_000, 3, 2_500, 0)),
        new("embedded", LatencyRunEntry.LevelKind, 25, 0, Run(2_500, 2, 1_250, 0)),
        new("cluster", LatencyRunEntry.Capacity, 0, 0, Run(8_000, 5, null, 0)),
        new("cluster", LatencyRunEntry.LevelKind, 25, 0, Run(2_000, 8, 1_000, 0)),
        new("cluster", LatencyRunEntry.LevelKind, 50, 0, Run(4_100, 10, 2_000, 0)),
        new("cluster", LatencyRunEntry.LevelKind, 50, 3, Run(3_900, 30, 2_000, 2)),
        new("cluster", LatencyRunEntry.LevelKind, 50, 1, null),
    ];

    /// <summary>A run whose e2e p99 is <paramref name="p99Ms"/>, p50 a tenth of it, p99.9 three times it.</summary>
    private static RunResult Run(double delivered, double p99Ms, double? rate, long errors)
    {
        var p99 = (long)(p99Ms * 1000);
        return new RunResult
        {
            Target = "kefu",
            Mode = rate is null ? "closed" : "rate",
            TargetRate = rate,
            DeliveredPerSecond = delivered,
            EndToEnd = new LatencySummary(100, p99 / 10.0, p99 / 10, p99 / 2, p99, p99 * 3, p99 * 4),
            Ack = new LatencySummary(100, 0, 0, 0, p99, 0, 0),
            Errors = new ErrorCounts(0, 0, errors, 0, 0),
        };
    }
}
