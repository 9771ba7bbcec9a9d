using System.Text.Json;
using Kefu.Benchmarks;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// The coordinated idle mode of docs/performance/measure-100k.sh, small: two generators against the in-process gateway
/// open their connections, report ready, wait at one barrier, hold with pings, then check the delivery sample; their
/// JSON results merge into the totals the script prints. The merge itself is also checked on made-up results.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class IdleCoordinatedSmokeTests(GatewayFixture gateway)
{
    private const int PerGenerator = 150;
    private const int PerVisitor = 10;
    private const int Sample = 3;

    [Fact]
    public async Task IdleCoordinated_two_generators_wait_at_the_barrier_hold_and_deliver_the_sample()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"kefu-idle-{Guid.NewGuid():N}");
        var barrier = Path.Combine(dir, "barrier");
        try
        {
            var runs = Enumerable.Range(1, 2).Select(g => BenchmarkRunner.RunAsync(new BenchmarkOptions
            {
                Urls = [gateway.BaseUri],
                Mode = BenchmarkMode.Idle,
                Connections = PerGenerator,
                ConnectionsPerVisitor = PerVisitor,
                ConnectConcurrency = 16,
                PingSample = 20,
                PingInterval = TimeSpan.FromMilliseconds(300),
                Duration = TimeSpan.FromSeconds(2),
                SetupTimeout = TimeSpan.FromSeconds(30),
                DeliverSample = Sample,
                ReadyPath = Path.Combine(dir, $"ready-{g}.json"),
                BarrierPath = barrier,
                ResultPath = Path.Combine(dir, $"generator-{g}.json"),
                Progress = false,
            }, CancellationToken.None)).ToArray();

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!Enumerable.Range(1, 2).All(g => File.Exists(Path.Combine(dir, $"ready-{g}.json"))))
            {
                Assert.True(DateTime.UtcNow < deadline, "the generators did not report ready");
                Assert.DoesNotContain(runs, r => r.IsFaulted);
                await Task.Delay(50);
            }

            // Both are open and waiting at the barrier: nothing of theirs is written until it exists.
            var ready = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "ready-1.json"))).RootElement;
            Assert.Equal(PerGenerator, ready.GetProperty("opened").GetInt32());
            Assert.DoesNotContain(runs, r => r.IsCompleted);
            Assert.False(File.Exists(Path.Combine(dir, "generator-1.json")) || File.Exists(Path.Combine(dir, "generator-2.json")));
            await File.WriteAllTextAsync(barrier, "");

            var results = await Task.WhenAll(runs);
            foreach (var idle in results.Select(r => r.Idle!))
            {
                Assert.True(idle.Errors.Total == 0, "errors: " + string.Join("; ", idle.ErrorSamples));
                Assert.Equal(PerGenerator, idle.Opened);
                Assert.Equal(0, idle.Dropped);
                Assert.True(idle.PingRoundTrip.Count > 0, "no pong");
                Assert.Equal(Sample, idle.DeliverVisitors);
                Assert.Equal(Sample, idle.DeliverAcks);
                Assert.Equal(Sample * (PerVisitor - 1), idle.DeliverExpected);
                Assert.Equal(idle.DeliverExpected, idle.Delivered);
                Assert.True(idle.HeldSeconds >= 1.9);
            }

            var written = new List<IdleResult>();
            foreach (var g in new[] { 1, 2 })
            {
                written.Add(JsonSerializer.Deserialize<IdleResult>(await File.ReadAllTextAsync(Path.Combine(dir, $"generator-{g}.json")), BenchmarkRunner.Json)!);
            }

            var totals = IdleTotals.Merge(2, 2 * PerGenerator, written, [], null, 12.5, []);
            Assert.True(totals.Ok, totals.Markdown(written, null));
            Assert.Equal(2 * PerGenerator, totals.Opened);
            Assert.Equal(2 * PerGenerator, totals.StillOpen);
            Assert.Equal(2 * Sample * (PerVisitor - 1), totals.Delivered);
            Assert.Equal(results.Sum(r => r.Idle!.PingRoundTrip.Count), totals.PingRoundTrip.Count);
            Assert.Contains($"| {2 * PerGenerator} | {2 * PerGenerator} | 0 |", totals.Markdown(written, null));
        }
        finally
        {
            if (!File.Exists(barrier))
            {
                // Release generators still waiting, so a failed assertion does not leave them holding sockets.
                Directory.CreateDirectory(dir);
                await File.WriteAllTextAsync(barrier, "");
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void IdleCoordinated_options_are_for_idle_mode_and_source_ranges_stay_on_loopback()
    {
        var o = BenchmarkOptions.Parse(["--mode", "idle", "--barrier", "b", "--ready", "r", "--result", "x.json", "--deliver-sample", "5",
            "--source-addresses", "4", "--source-address-first", "22"]);
        Assert.Equal(("b", "r", "x.json", 5, 22), (o.BarrierPath, o.ReadyPath, o.ResultPath, o.DeliverSample, o.SourceAddressFirst));
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--barrier", "b"]));
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--mode", "closed", "--deliver-sample", "3"]));
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--mode", "idle", "--source-addresses", "10", "--source-address-first", "250"]));
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--mode", "idle", "--source-address-first", "1"]));
    }

    [Fact]
    public void IdleCoordinated_merge_sums_memory_and_fails_on_a_drop_a_missed_delivery_or_a_missing_generator()
    {
        static IdleResult Result(int opened, int stillOpen, int expected, int delivered, params long[] pingsUs) => new()
        {
            Requested = 100,
            Opened = opened,
            StillOpen = stillOpen,
            DeliverVisitors = 2,
            DeliverSenders = 2,
            DeliverAcks = 2,
            DeliverExpected = expected,
            Delivered = delivered,
            PingRoundTrip = LatencySummary.From(new HdrHistogram.LongHistogram(600_000_000, 3)),
            PingHistogramUs = [.. pingsUs.Select(us => new[] { us, 1L })],
            Errors = new ErrorCounts(0, 0, 0, 0, 0),
        };

        // Two gateways grew by 1 700 KiB each over 200 connections: 17 KiB per connection (3 800 KiB at their peaks: 19);
        // the silo apart.
        var gateways = new[] { new RssReading(100_000, 101_700, 102_000), new RssReading(90_000, 91_700, 91_800) };
        var ok = IdleTotals.Merge(2, 200, [Result(100, 100, 18, 18, 1000, 2000), Result(100, 100, 18, 18, 3000)], gateways,
            new RssReading(500_000, 520_480, 530_720), 9.5, []);
        Assert.True(ok.Ok);
        Assert.Equal(17.0, ok.GatewayRssPerConnectionKb);
        Assert.Equal(19.0, ok.GatewayRssPerConnectionPeakKb);
        Assert.Equal(20_480, ok.SiloRssGrowthOpenKb);
        Assert.Equal(3, ok.PingRoundTrip.Count);
        Assert.InRange(ok.PingRoundTrip.P50Us, 1990, 2010);
        Assert.InRange(ok.PingRoundTrip.MaxUs, 2990, 3010);

        Assert.False(IdleTotals.Merge(2, 200, [Result(100, 99, 18, 18), Result(100, 100, 18, 18)], gateways, null, null, []).Ok);
        Assert.False(IdleTotals.Merge(2, 200, [Result(100, 100, 18, 17), Result(100, 100, 18, 18)], gateways, null, null, []).Ok);
        var missing = IdleTotals.Merge(2, 200, [Result(100, 100, 18, 18)], gateways, null, null, ["no result from generator-2.json"]);
        Assert.False(missing.Ok);
        Assert.Equal(100, missing.StillOpen);
        Assert.Contains("- no result from generator-2.json", missing.Markdown([], null));

        // That generator's 100 connections were open when the RSS was read (its ready file says so): the growth is
        // theirs too, so it is divided by 200, not by the 100 the one result reports.
        Assert.Equal(34.0, missing.GatewayRssPerConnectionKb);
        var atBarrier = IdleTotals.Merge(2, 200, [Result(100, 100, 18, 18)], gateways, null, null, ["no result from generator-2.json"], openAtBarrier: 200);
        Assert.Equal(17.0, atBarrier.GatewayRssPerConnectionKb);
        Assert.Equal(19.0, atBarrier.GatewayRssPerConnectionPeakKb);
        Assert.Contains("over 200 connections open at the barrier", atBarrier.Markdown([], null));
    }
}
