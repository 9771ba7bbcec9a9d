using System.Text.Json;
using Kefu.Benchmarks;

namespace Kefu.Gateway.Tests.Benchmarks;

/// <summary>
/// The runs' <c>--result FILE.json</c> (issue #21): docs/performance/measure-all.sh builds its table from these files,
/// so their fields must be there with the run's figures, and nothing is written without the option.
/// </summary>
public sealed class PathResultTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kefu-path-result-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task WriteIfAsked_writes_the_fields_measure_all_reads_and_creates_the_directory()
    {
        var path = Path.Combine(_dir, "sub", "r.json");
        await new PathResult("kafka-in", 1234.5, "events applied", null, null, true, null).WriteIfAskedAsync(["--events", "10", "--result", path]);

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var root = json.RootElement;
        Assert.Equal("kafka-in", root.GetProperty("run").GetString());
        Assert.Equal(1234.5, root.GetProperty("throughput").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("p50Ms").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("p99Ms").ValueKind);
        Assert.True(root.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task WriteIfAsked_without_the_option_writes_nothing()
    {
        await new PathResult("webhooks", 1, "deliveries", 1, 2, true, "commit→delivery").WriteIfAskedAsync(["--events", "10"]);

        Assert.False(Directory.Exists(_dir));
    }

    [Fact]
    public async Task KafkaOut_result_has_its_rate_and_relay_step_latency()
    {
        var path = Path.Combine(_dir, "kafka-out.json");

        var code = await KafkaOutRun.RunAsync(["--events", "2000", "--conversations", "10", "--result", path], CancellationToken.None);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var root = json.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.True(root.GetProperty("throughput").GetDouble() > 0);
        var p50 = root.GetProperty("p50Ms").GetDouble();
        Assert.True(p50 > 0 && p50 <= root.GetProperty("p99Ms").GetDouble());
    }

    [Fact]
    public async Task KafkaIn_at_a_fixed_rate_has_its_produce_to_applied_latency()
    {
        var path = Path.Combine(_dir, "kafka-in.json");

        var code = await KafkaInboundRun.RunAsync(["--events", "200", "--rate", "100", "--warmup", "50", "--contacts", "0", "--fetch-wait-ms", "10", "--result", path], CancellationToken.None);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var root = json.RootElement;
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal(KafkaInboundRun.RateLatency, root.GetProperty("latency").GetString());
        // The events were produced over 2 s at 100/s: the applied rate cannot be far above the offered one.
        var throughput = root.GetProperty("throughput").GetDouble();
        Assert.True(throughput is > 0 and < 150, $"{throughput} events/s");
        var p50 = root.GetProperty("p50Ms").GetDouble();
        Assert.True(p50 > 0 && p50 <= root.GetProperty("p99Ms").GetDouble(), json.RootElement.ToString());
    }
}
