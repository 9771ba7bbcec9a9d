using System.Globalization;
using System.Text.Json;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>latency-plot</c> (issue #21 item 3): turns the manifest of docs/performance/measure-latency.sh (one line per
/// load-generator run, each with its <c>--out</c> JSON) into the latency-under-load table (markdown), its JSON and the
/// SVG plot; with <c>--capacity MODE</c> it prints that mode's closed-loop capacity, which the script needs to choose
/// the rates of the load levels. The figures are computed here (one tested place) rather than in the shell script.
/// </summary>
public static class LatencyPlotRun
{
    public const string Usage = """
        latency-plot: dotnet Kefu.Benchmarks.dll latency-plot --runs MANIFEST.tsv [options]
          --runs FILE        manifest: mode, capacity|level, level %, run index, exit code, --out JSON path (tab-separated)
          --capacity MODE    print MODE's capacity (median delivered msgs/s of its closed-loop runs) and exit (3: none)
          --md FILE          write the table (markdown)
          --json FILE        write the figures (capacities, points: median/min/max of each figure)
          --svg FILE         write the plot (x = % of capacity, y = e2e latency ms, log scale)
          --header TEXT      a line above the table (date, commit, settings, load average)
          --title TEXT       the plot's title
          --target-ms MS --target-mode MODE --target-level L   the target line (default 25 ms, cluster p99 at 50 %)
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var manifest = BenchHost.Arg(args, "--runs") ?? throw new ArgumentException("latency-plot needs --runs MANIFEST.tsv.");
        var target = new LatencyTarget(
            BenchHost.Arg(args, "--target-mode") ?? "cluster",
            BenchHost.Arg(args, "--target-level") is { } l ? int.Parse(l, CultureInfo.InvariantCulture) : 50,
            BenchHost.Arg(args, "--target-ms") is { } t ? double.Parse(t, CultureInfo.InvariantCulture) : 25);
        var report = await LatencyReport.FromManifestAsync(manifest, cancellationToken);

        if (BenchHost.Arg(args, "--capacity") is { } mode)
        {
            if (report.CapacityOf(mode) is not { } capacity)
            {
                await Console.Error.WriteLineAsync($"latency-plot: no capacity figure for {mode} (every closed-loop run failed?)");
                return 3;
            }

            Console.WriteLine(capacity.ToString("0", CultureInfo.InvariantCulture));
            return 0;
        }

        var markdown = report.ToMarkdown(BenchHost.Arg(args, "--header"), target);
        await WriteAsync(BenchHost.Arg(args, "--md"), markdown, cancellationToken);
        await WriteAsync(BenchHost.Arg(args, "--json"), JsonSerializer.Serialize(report, BenchmarkRunner.Json), cancellationToken);
        await WriteAsync(BenchHost.Arg(args, "--svg"),
            LatencySvg.Write(report, target, BenchHost.Arg(args, "--title") ?? "Kefu: latency under load"), cancellationToken);
        Console.WriteLine(markdown);
        return 0;
    }

    private static async Task WriteAsync(string? path, string text, CancellationToken cancellationToken)
    {
        if (path is null)
        {
            return;
        }

        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        await File.WriteAllTextAsync(full, text, cancellationToken);
    }
}
