using System.Text.Json;

namespace Kefu.Benchmarks;

/// <summary>
/// One run's headline figures as JSON (<c>--result FILE.json</c>), so that scripts such as
/// docs/performance/measure-all.sh read numbers from a file instead of parsing the console table, which changes with
/// each run's wording. Latencies are null where the run does not measure one.
/// </summary>
/// <param name="Run">The run's name on the command line (webhooks, kafka-in, …).</param>
/// <param name="Throughput">The run's headline rate.</param>
/// <param name="Unit">What <paramref name="Throughput"/> counts, per second.</param>
/// <param name="P50Ms">Median latency in milliseconds, or null.</param>
/// <param name="P99Ms">99th percentile latency in milliseconds, or null.</param>
/// <param name="Ok">The run's own check passed (everything delivered/applied, no error): its exit code was 0.</param>
/// <param name="Latency">What the latency measures.</param>
public sealed record PathResult(string Run, double Throughput, string Unit, double? P50Ms, double? P99Ms, bool Ok, string? Latency)
{
    /// <summary>Writes the result to the file after <c>--result</c>, if the command line has one.</summary>
    public async Task WriteIfAskedAsync(string[] args)
    {
        if (BenchHost.Arg(args, "--result") is { } path)
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, JsonSerializer.Serialize(this, BenchmarkRunner.Json), CancellationToken.None);
        }
    }
}
