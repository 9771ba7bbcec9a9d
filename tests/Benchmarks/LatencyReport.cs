using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kefu.Benchmarks;

/// <summary>The median of some runs' figure with its range (min–max): how issue #21 wants every figure given.</summary>
public sealed record Spread(double Median, double Min, double Max)
{
    /// <summary>Null when there is no value (every run failed before writing its figures).</summary>
    public static Spread? Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var mid = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        return new Spread(median, sorted[0], sorted[^1]);
    }
}

/// <summary>
/// One line of the manifest docs/performance/measure-latency.sh writes for every load-generator run:
/// <c>mode kind level index exit-code json-path</c>, tab-separated. <paramref name="Kind"/> is <c>capacity</c> (closed
/// loop) or <c>level</c> (fixed rate at <paramref name="Level"/> % of the capacity).
/// </summary>
public sealed record LatencyRunEntry(string Mode, string Kind, int Level, int Index, int ExitCode, string JsonPath)
{
    public const string Capacity = "capacity";
    public const string LevelKind = "level";

    public static IReadOnlyList<LatencyRunEntry> ParseManifest(IEnumerable<string> lines)
    {
        var entries = new List<LatencyRunEntry>();
        foreach (var line in lines)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var f = line.Split('\t');
            if (f.Length < 6 || f[1] is not (Capacity or LevelKind)
                || !int.TryParse(f[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var level)
                || !int.TryParse(f[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var index)
                || !int.TryParse(f[4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rc))
            {
                throw new ArgumentException($"Not a manifest line (mode, capacity|level, level, index, exit code, json): '{line}'.");
            }

            entries.Add(new LatencyRunEntry(f[0], f[1], level, index, rc, f[5]));
        }

        return entries;
    }
}

/// <summary>One run's figures: <paramref name="Run"/> is null when the run wrote no JSON (it failed early).</summary>
public sealed record LatencySample(string Mode, string Kind, int Level, int ExitCode, RunResult? Run)
{
    /// <summary>A clean run: exit 0, figures written, no error of any kind counted.</summary>
    public bool Ok => ExitCode == 0 && Run is { Errors.Total: 0 };
}

/// <summary>A mode's closed-loop capacity: delivered msgs/s over its capacity runs.</summary>
public sealed record ModeCapacity(string Mode, Spread? Delivered, int RunsOk, int Runs);

/// <summary>One load level of one mode; latencies in ms (end to end = send → the other side receives it).</summary>
public sealed record LevelPoint(
    string Mode,
    int Level,
    double? OfferedPerSecond,
    Spread? Delivered,
    Spread? P50Ms,
    Spread? P99Ms,
    Spread? P999Ms,
    Spread? AckP99Ms,
    int RunsOk,
    int Runs);

/// <summary>
/// Latency under load (issue #21 item 3): each mode's capacity and, per load level, the median and range of delivered/s
/// and of the end-to-end p50/p99/p99.9 over the runs. Built from the load generator's <c>--out</c> JSON files, never
/// from console text; written as markdown and JSON, and drawn by <see cref="LatencySvg"/>.
/// </summary>
public sealed record LatencyReport(IReadOnlyList<ModeCapacity> Capacities, IReadOnlyList<LevelPoint> Points)
{
    public static LatencyReport Build(IReadOnlyList<LatencySample> samples)
    {
        // Modes in the order they ran (embedded before cluster in the script), levels ascending.
        var modes = samples.Select(s => s.Mode).Distinct(StringComparer.Ordinal).ToList();
        var capacities = new List<ModeCapacity>();
        var points = new List<LevelPoint>();
        foreach (var mode in modes)
        {
            var capacityRuns = samples.Where(s => s.Mode == mode && s.Kind == LatencyRunEntry.Capacity).ToList();
            if (capacityRuns.Count > 0)
            {
                capacities.Add(new ModeCapacity(mode, Spread.Of(Figures(capacityRuns, r => r.DeliveredPerSecond)),
                    capacityRuns.Count(s => s.Ok), capacityRuns.Count));
            }

            foreach (var group in samples.Where(s => s.Mode == mode && s.Kind == LatencyRunEntry.LevelKind)
                         .GroupBy(s => s.Level).OrderBy(g => g.Key))
            {
                var runs = group.ToList();
                // The visitors' target rate; every visitor message is answered by an agent, so deliveries ≈ 2 × rate.
                var offered = runs.Select(s => s.Run?.TargetRate).FirstOrDefault(r => r is not null) * 2;
                points.Add(new LevelPoint(
                    mode,
                    group.Key,
                    offered,
                    Spread.Of(Figures(runs, r => r.DeliveredPerSecond)),
                    Spread.Of(Figures(runs, r => r.EndToEnd.P50Us / 1000.0)),
                    Spread.Of(Figures(runs, r => r.EndToEnd.P99Us / 1000.0)),
                    Spread.Of(Figures(runs, r => r.EndToEnd.P999Us / 1000.0)),
                    Spread.Of(Figures(runs, r => r.Ack.P99Us / 1000.0)),
                    runs.Count(s => s.Ok),
                    runs.Count));
            }
        }

        return new LatencyReport(capacities, points);
    }

    /// <summary>Reads every run's JSON named in the manifest (a missing or unreadable file = a run without figures).</summary>
    public static async Task<LatencyReport> FromManifestAsync(string manifestPath, CancellationToken cancellationToken)
    {
        var entries = LatencyRunEntry.ParseManifest(await File.ReadAllLinesAsync(manifestPath, cancellationToken));
        var samples = new List<LatencySample>();
        foreach (var e in entries)
        {
            RunResult? run = null;
            try
            {
                var result = JsonSerializer.Deserialize<BenchmarkResult>(await File.ReadAllTextAsync(e.JsonPath, cancellationToken), BenchmarkRunner.Json);
                run = result?.Runs.LastOrDefault(r => r.Target == "kefu") ?? result?.Runs.LastOrDefault();
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                // No figures from this run: it counts in "runs", not in "ok", and adds nothing to the medians.
            }

            samples.Add(new LatencySample(e.Mode, e.Kind, e.Level, e.ExitCode, run));
        }

        return Build(samples);
    }

    /// <summary>The mode's capacity (median delivered msgs/s of its closed-loop runs), or null when none has figures.</summary>
    public double? CapacityOf(string mode) => Capacities.FirstOrDefault(c => c.Mode == mode)?.Delivered?.Median;

    /// <summary>
    /// Whether the median e2e p99 of <paramref name="mode"/> at <paramref name="level"/> % is within
    /// <paramref name="targetMs"/>; null when that point was not measured.
    /// </summary>
    public bool? MeetsTarget(string mode, int level, double targetMs) =>
        Points.FirstOrDefault(p => p.Mode == mode && p.Level == level)?.P99Ms is { } p99 ? p99.Median <= targetMs : null;

    public string ToMarkdown(string? header, LatencyTarget target)
    {
        var sb = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(header))
        {
            sb.AppendLine(header).AppendLine();
        }

        sb.AppendLine("| mode | load (% of capacity) | offered deliveries/s | delivered/s | e2e p50 ms | e2e p99 ms | e2e p99.9 ms | ack p99 ms | runs ok |")
          .AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var p in Points)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {p.Mode} | {p.Level} % | {(p.OfferedPerSecond is { } o ? Rate(o) : "—")} | {Fig(p.Delivered, Rate)} | {Fig(p.P50Ms, Ms)} | " +
                $"{Fig(p.P99Ms, Ms)} | {Fig(p.P999Ms, Ms)} | {Fig(p.AckP99Ms, Ms)} | {p.RunsOk}/{p.Runs} |");
        }

        sb.AppendLine();
        foreach (var c in Capacities)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"Capacity, {c.Mode}: {Fig(c.Delivered, Rate)} delivered msgs/s (closed loop; median of the runs, min–max), {c.RunsOk}/{c.Runs} runs ok.");
        }

        var verdict = MeetsTarget(target.Mode, target.Level, target.Ms) switch { true => "met", false => "NOT met", null => "not measured" };
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Target: {target.Mode} p99 ≤ {Ms(target.Ms)} ms at {target.Level} % — {verdict} (median of the runs).");
        return sb.ToString();
    }

    /// <summary>"1 234" (thousands separated by a space, as docs/performance.md writes them).</summary>
    public static string Rate(double v) => v.ToString("#,0", CultureInfo.InvariantCulture).Replace(',', ' ');

    /// <summary>Milliseconds with about three significant digits.</summary>
    public static string Ms(double v) => v.ToString(v < 10 ? "0.00" : v < 100 ? "0.0" : "0", CultureInfo.InvariantCulture);

    /// <summary>"median (min–max)", or the value alone for one run, or "—" for none.</summary>
    public static string Fig(Spread? s, Func<double, string> format) => s switch
    {
        null => "—",
        _ when s.Min.Equals(s.Max) => format(s.Median),
        _ => $"{format(s.Median)} ({format(s.Min)}–{format(s.Max)})",
    };

    private static IEnumerable<double> Figures(IEnumerable<LatencySample> runs, Func<RunResult, double> figure) =>
        runs.Where(s => s.Run is not null).Select(s => figure(s.Run!));
}

/// <summary>The latency target: <see cref="Mode"/> p99 ≤ <see cref="Ms"/> at <see cref="Level"/> % of capacity.</summary>
public sealed record LatencyTarget(string Mode = "cluster", int Level = 50, double Ms = 25);
