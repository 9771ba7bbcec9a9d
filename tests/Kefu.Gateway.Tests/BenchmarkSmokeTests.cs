using System.Text.Json;
using Kefu.Benchmarks;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// The load generator (tests/Benchmarks) against the in-process gateway and against its own raw relay, briefly and
/// slowly: the fixture limits each connection to 30 frames/s, so visitors pause 100 ms between messages.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class BenchmarkSmokeTests(GatewayFixture gateway)
{
    [Fact]
    public async Task BenchmarkSmoke_closed_loop_against_the_gateway_delivers_both_ways_without_errors()
    {
        var outPath = Path.Combine(Path.GetTempPath(), $"kefu-bench-{Guid.NewGuid():N}", "result.json");
        var options = new BenchmarkOptions
        {
            Urls = [gateway.BaseUri],
            AdminPassword = GatewayFixture.AdminPassword,
            Mode = BenchmarkMode.Closed,
            Visitors = 4,
            Agents = 2,
            ThinkTime = TimeSpan.FromMilliseconds(100),
            Warmup = TimeSpan.FromMilliseconds(500),
            Duration = TimeSpan.FromSeconds(3),
            SetupTimeout = TimeSpan.FromSeconds(20),
            Progress = false,
            OutPath = outPath,
        };

        try
        {
            var result = await BenchmarkRunner.RunAsync(options, CancellationToken.None);

            var run = Assert.Single(result.Runs);
            Assert.Equal("kefu", run.Target);
            Assert.True(run.Errors.Total == 0, "errors: " + string.Join("; ", run.ErrorSamples));
            Assert.True(run.DeliveredToAgents > 0, "no visitor message reached an agent");
            Assert.True(run.DeliveredToVisitors > 0, "no agent reply reached a visitor");
            Assert.True(run.EndToEnd.Count > 0 && run.EndToEnd.P50Us > 0 && run.EndToEnd.MaxUs >= run.EndToEnd.P99Us);
            Assert.True(run.Ack.Count > 0);
            Assert.Equal(6, run.Connections);

            Assert.Equal(Path.GetFullPath(outPath), result.JsonPath);
            var json = JsonDocument.Parse(await File.ReadAllTextAsync(outPath)).RootElement;
            var written = json.GetProperty("runs")[0];
            Assert.Equal("kefu", written.GetProperty("target").GetString());
            Assert.Equal(run.Delivered, written.GetProperty("delivered").GetInt64());
            Assert.True(written.GetProperty("endToEnd").GetProperty("count").GetInt64() > 0);
            Assert.Contains("| kefu |", result.Markdown);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(outPath)!, recursive: true);
        }
    }

    [Fact]
    public async Task BenchmarkSmoke_raw_relay_delivers_both_ways()
    {
        var options = new BenchmarkOptions
        {
            Target = BenchmarkTarget.Relay,
            Mode = BenchmarkMode.Rate,
            Rate = 200,
            Visitors = 4,
            Agents = 2,
            Warmup = TimeSpan.Zero,
            Duration = TimeSpan.FromSeconds(2),
            Progress = false,
        };

        var result = await BenchmarkRunner.RunAsync(options, CancellationToken.None);

        var run = Assert.Single(result.Runs);
        Assert.Equal("relay", run.Target);
        Assert.True(run.Errors.Total == 0, "errors: " + string.Join("; ", run.ErrorSamples));
        Assert.True(run.DeliveredToAgents > 0 && run.DeliveredToVisitors > 0);
        Assert.True(run.EndToEnd.Count > 0);
    }

    [Theory]
    [InlineData("http://10.0.0.1:5080")]
    [InlineData("http://192.168.1.2")]
    [InlineData("http://example.com")]
    [InlineData("http://[::1]:5080")]
    public void BenchmarkSmoke_refuses_targets_outside_loopback(string url) =>
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--url", url]));

    [Fact]
    public void BenchmarkSmoke_runs_are_bounded()
    {
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--duration", "11m"]));
        Assert.Throws<ArgumentException>(() => BenchmarkOptions.Parse(["--connections", "2000000"]));
        Assert.Equal(TimeSpan.FromSeconds(20), BenchmarkOptions.Parse(["--url", "http://127.0.0.2:5080", "--duration", "20s"]).Duration);
    }
}
