using Kefu.Benchmarks;

namespace Kefu.Gateway.Tests.Grpc;

/// <summary>The grpc-fanout benchmark (tests/Benchmarks/GrpcFanoutRun.cs), briefly: a few subscribers get every event.</summary>
public sealed class GrpcFanoutSmokeTests
{
    [Fact]
    public async Task BenchmarkSmoke_grpc_fanout_delivers_every_event_to_every_subscriber()
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Assert.Equal(0, await GrpcFanoutRun.RunAsync(["--subscribers", "3", "--events", "30", "--warmup", "5", "--rate", "100"], limit.Token));
    }
}
