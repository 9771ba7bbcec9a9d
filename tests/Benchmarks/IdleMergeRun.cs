using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace Kefu.Benchmarks;

/// <summary>RSS (KiB, /proc/PID/status VmRSS) of one process at the three moments the script reads it.</summary>
/// <param name="BeforeKb">Before any generator started (the process warm, no connection).</param>
/// <param name="OpenKb">When every generator reported its connections open (before the hold).</param>
/// <param name="PeakKb">The highest reading from then to the end of the hold.</param>
public sealed record RssReading(long? BeforeKb, long? OpenKb, long? PeakKb)
{
    public long? OpenGrowthKb => BeforeKb is { } b && OpenKb is { } o ? o - b : null;

    public long? PeakGrowthKb => BeforeKb is { } b && PeakKb is { } p ? p - b : null;
}

/// <summary>The coordinated idle run's totals over every generator (what docs/performance/measure-100k.sh reports).</summary>
public sealed record IdleTotals
{
    public int Generators { get; init; }

    /// <summary>Generators that wrote a result (the others failed; see <see cref="Notes"/>).</summary>
    public int Results { get; init; }

    public int Requested { get; init; }

    public int Opened { get; init; }

    /// <summary>Connections open at the barrier by the generators' ready files (null: not given); RSS per connection divides by it.</summary>
    public int? OpenAtBarrier { get; init; }

    public int StillOpen { get; init; }

    /// <summary>Opened but not open at the end, plus nothing for a generator without a result (its count is not known).</summary>
    public int Dropped { get; init; }

    public long PingsSent { get; init; }

    public long Pongs { get; init; }

    /// <summary>Exact over all generators: their histograms are added.</summary>
    public required LatencySummary PingRoundTrip { get; init; }

    public int DeliverVisitors { get; init; }

    public int DeliverSenders { get; init; }

    public int DeliverAcks { get; init; }

    public int DeliverExpected { get; init; }

    public int Delivered { get; init; }

    public long Errors { get; init; }

    /// <summary>Longest connect phase of one generator (they run in parallel).</summary>
    public double MaxConnectSeconds { get; init; }

    /// <summary>Wall clock from starting the generators to the last one ready (the script's figure), if known.</summary>
    public double? OpenSeconds { get; init; }

    public long? GatewayRssGrowthOpenKb { get; init; }

    public long? GatewayRssGrowthPeakKb { get; init; }

    /// <summary>Sum of every gateway's RSS growth ÷ connections opened, when all were open (KiB).</summary>
    public double? GatewayRssPerConnectionKb { get; init; }

    /// <summary>The same with each gateway's highest reading during the hold.</summary>
    public double? GatewayRssPerConnectionPeakKb { get; init; }

    public long? SiloRssGrowthOpenKb { get; init; }

    public long? SiloRssGrowthPeakKb { get; init; }

    public List<string> Notes { get; init; } = [];

    public List<string> ErrorSamples { get; init; } = [];

    /// <summary>Everything requested opened, none dropped, every sample message acked and delivered, no error.</summary>
    public bool Ok { get; init; }

    /// <param name="openAtBarrier">
    /// Connections open when the gateways' "all open" RSS was read, from the generators' ready files: the divisor for
    /// RSS per connection. A generator that fails after the barrier writes no result, but its connections were open
    /// (and in the gateways' RSS) when it was read; without this its share of the growth would be spread over the others.
    /// </param>
    public static IdleTotals Merge(int generators, int requested, IReadOnlyList<IdleResult> results, IReadOnlyList<RssReading> gateways,
        RssReading? silo, double? openSeconds, IReadOnlyList<string> notes, int? openAtBarrier = null)
    {
        var histogram = new LongHistogram(600_000_000, 3);
        foreach (var pair in results.SelectMany(r => r.PingHistogramUs))
        {
            histogram.RecordValueWithCount(pair[0], pair[1]);
        }

        var opened = results.Sum(r => r.Opened);
        var stillOpen = results.Sum(r => r.StillOpen);
        long? Sum(Func<RssReading, long?> f) => gateways.Count > 0 && gateways.All(g => f(g) is not null) ? gateways.Sum(g => f(g)!.Value) : null;
        var divisor = openAtBarrier ?? opened;
        double? PerConnection(long? kb) => kb is { } k && divisor > 0 ? Math.Round(k / (double)divisor, 2) : null;
        var growthOpen = Sum(g => g.OpenGrowthKb);
        var growthPeak = Sum(g => g.PeakGrowthKb);
        var totals = new IdleTotals
        {
            Generators = generators,
            Results = results.Count,
            Requested = requested,
            Opened = opened,
            OpenAtBarrier = openAtBarrier,
            StillOpen = stillOpen,
            Dropped = opened - stillOpen,
            PingsSent = results.Sum(r => r.PingsSent),
            Pongs = results.Sum(r => r.PongsReceived),
            PingRoundTrip = LatencySummary.From(histogram),
            DeliverVisitors = results.Sum(r => r.DeliverVisitors),
            DeliverSenders = results.Sum(r => r.DeliverSenders),
            DeliverAcks = results.Sum(r => r.DeliverAcks),
            DeliverExpected = results.Sum(r => r.DeliverExpected),
            Delivered = results.Sum(r => r.Delivered),
            Errors = results.Sum(r => r.Errors.Total),
            MaxConnectSeconds = results.Count == 0 ? 0 : results.Max(r => r.ConnectSeconds),
            OpenSeconds = openSeconds,
            GatewayRssGrowthOpenKb = growthOpen,
            GatewayRssGrowthPeakKb = growthPeak,
            GatewayRssPerConnectionKb = PerConnection(growthOpen),
            GatewayRssPerConnectionPeakKb = PerConnection(growthPeak),
            SiloRssGrowthOpenKb = silo?.OpenGrowthKb,
            SiloRssGrowthPeakKb = silo?.PeakGrowthKb,
            Notes = [.. notes],
            ErrorSamples = [.. results.SelectMany(r => r.ErrorSamples).Distinct().Take(10)],
        };
        return totals with
        {
            Ok = results.Count == generators && opened == requested && totals.Dropped == 0 && totals.Errors == 0
                && totals.DeliverSenders == totals.DeliverVisitors && totals.DeliverAcks == totals.DeliverSenders
                && totals.Delivered == totals.DeliverExpected,
        };
    }

    public string Markdown(IReadOnlyList<IdleResult> results, string? title)
    {
        var sb = new StringBuilder();
        void Line(string text = "") => sb.Append(text).Append('\n');
        static string Ms(long micros) => (micros / 1000.0).ToString("F2", CultureInfo.InvariantCulture);
        static string Kib(double? kb) => kb is { } k ? k.ToString("F1", CultureInfo.InvariantCulture) + " KiB" : "n/a";
        static string Mib(long? kb) => kb is { } k ? (k / 1024.0).ToString("F0", CultureInfo.InvariantCulture) + " MiB" : "n/a";
        static string S(double? s) => s is { } v ? v.ToString("F1", CultureInfo.InvariantCulture) + " s" : "n/a";
        Line(title ?? $"Coordinated idle run: {Generators} generators, {Requested} connections requested.");
        Line();
        Line("| connections held | requested | dropped | gateway RSS/conn (all open) | (peak in hold) | silo RSS growth (open / peak) | ping p50 | ping p99 | ping max | pings / pongs | sample delivered | sample acks | time to open (wall / slowest generator) | errors | ok |");
        Line("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        Line($"| {StillOpen} | {Requested} | {Dropped} | {Kib(GatewayRssPerConnectionKb)} | {Kib(GatewayRssPerConnectionPeakKb)} | {Mib(SiloRssGrowthOpenKb)} / {Mib(SiloRssGrowthPeakKb)} | {Ms(PingRoundTrip.P50Us)} | {Ms(PingRoundTrip.P99Us)} | {Ms(PingRoundTrip.MaxUs)} | {PingsSent} / {Pongs} | {Delivered}/{DeliverExpected} | {DeliverAcks}/{DeliverVisitors} | {S(OpenSeconds)} / {S(MaxConnectSeconds)} | {Errors} | {(Ok ? "yes" : "**no**")} |");
        Line();
        Line($"Gateway RSS growth: {Mib(GatewayRssGrowthOpenKb)} with all open, {Mib(GatewayRssGrowthPeakKb)} at the peak, over {OpenAtBarrier ?? Opened} connections {(OpenAtBarrier is null ? "opened" : "open at the barrier (the generators' ready files)")} (sum over gateways ÷ connections).");
        Line();
        Line("| generator | opened | held | dropped | connect s | ping p99 | delivered | errors |");
        Line("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            Line($"| {i + 1} | {r.Opened} | {r.StillOpen} | {r.Dropped} | {r.ConnectSeconds.ToString("F1", CultureInfo.InvariantCulture)} | {Ms(r.PingRoundTrip.P99Us)} | {r.Delivered}/{r.DeliverExpected} | {r.Errors.Total} |");
        }

        if (Notes.Count + ErrorSamples.Count > 0)
        {
            Line();
            foreach (var note in Notes.Concat(ErrorSamples))
            {
                Line($"- {note}");
            }
        }

        return sb.ToString();
    }
}

/// <summary>
/// <c>idle-merge</c>: sums the <c>--result</c> files of several coordinated idle generators with the RSS the script
/// read, and writes one markdown table and one JSON (docs/performance/100k.md).
/// </summary>
internal static class IdleMergeRun
{
    public const string Usage = """
        Kefu.Benchmarks idle-merge: sum coordinated idle generators (docs/performance/measure-100k.sh).
          --results F1.json,F2.json,…   the generators' --result files (a missing one is noted, not fatal)
          --requested N                 connections requested in total
          --gateway-rss-before KB,KB,…  each gateway's VmRSS before the generators started
          --gateway-rss-open KB,KB,…    … when every generator was ready
          --gateway-rss-peak KB,KB,…    … highest during the hold
          --silo-rss KB,KB,KB           the silo's before, open, peak
          --open-seconds S              wall clock from starting the generators to all ready
          --ready R1.json,R2.json,…     the generators' ready files: what was open when the RSS was read (divisor)
          --note TEXT                   a line under the table (repeatable), e.g. why a run stopped short
          --title TEXT                  the line above the table
          --markdown FILE.md --out FILE.json
        Exit code 0 when the run is ok (all opened, none dropped, sample delivered, no errors), 3 otherwise.
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var files = List(BenchHost.Arg(args, "--results"));
        var results = new List<IdleResult>();
        var notes = new List<string>();
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                notes.Add($"no result from {Path.GetFileName(file)} (that generator failed: see its log)");
                continue;
            }

            results.Add(JsonSerializer.Deserialize<IdleResult>(await File.ReadAllTextAsync(file, cancellationToken), BenchmarkRunner.Json)
                ?? throw new InvalidOperationException($"{file}: empty result"));
        }

        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--note")
            {
                notes.Add(args[i + 1]);
            }
        }

        var before = Longs(BenchHost.Arg(args, "--gateway-rss-before"));
        var open = Longs(BenchHost.Arg(args, "--gateway-rss-open"));
        var peak = Longs(BenchHost.Arg(args, "--gateway-rss-peak"));
        var gateways = Enumerable.Range(0, before.Count)
            .Select(i => new RssReading(before[i], i < open.Count ? open[i] : null, i < peak.Count ? peak[i] : null))
            .ToList();
        var silo = Longs(BenchHost.Arg(args, "--silo-rss")) is [var sb, var so, var sp] ? new RssReading(sb, so, sp) : null;
        var openSeconds = BenchHost.Arg(args, "--open-seconds") is { } s ? double.Parse(s, CultureInfo.InvariantCulture) : (double?)null;
        var requested = BenchHost.Arg(args, "--requested") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : results.Sum(x => x.Requested);

        var ready = List(BenchHost.Arg(args, "--ready")).Where(File.Exists).ToList();
        int? openAtBarrier = null;
        foreach (var file in ready)
        {
            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(file, cancellationToken));
            openAtBarrier = (openAtBarrier ?? 0) + doc.RootElement.GetProperty("opened").GetInt32();
        }

        var totals = IdleTotals.Merge(files.Count, requested, results, gateways, silo, openSeconds, notes, openAtBarrier);
        var markdown = totals.Markdown(results, BenchHost.Arg(args, "--title"));
        Console.Write(markdown);
        if (BenchHost.Arg(args, "--markdown") is { } md)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(md))!);
            await File.WriteAllTextAsync(md, markdown, CancellationToken.None);
        }

        if (BenchHost.Arg(args, "--out") is { } json)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(json))!);
            await File.WriteAllTextAsync(json, JsonSerializer.Serialize(totals, BenchmarkRunner.Json), CancellationToken.None);
        }

        return totals.Ok ? 0 : 3;
    }

    private static List<string> List(string? text) =>
        [.. (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>"n/a" or an empty entry (a process that was gone) stays null.</summary>
    private static List<long?> Longs(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : [.. text.Split(',', StringSplitOptions.TrimEntries)
            .Select(t => long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (long?)null)];
}
