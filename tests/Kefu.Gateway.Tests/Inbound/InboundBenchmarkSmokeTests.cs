using Kefu.Benchmarks;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Inbound;

/// <summary>The inbound mode of the load generator (tests/Benchmarks), briefly against the in-process gateway.</summary>
[Collection(GatewayCollection.Name)]
public sealed class InboundBenchmarkSmokeTests(GatewayFixture gateway)
{
    [Fact]
    public async Task BenchmarkSmoke_inbound_mode_counts_accepted_events_and_replays_without_errors()
    {
        var options = new BenchmarkOptions
        {
            Urls = [gateway.BaseUri],
            AdminPassword = GatewayFixture.AdminPassword,
            Mode = BenchmarkMode.Inbound,
            Senders = 4,
            Contacts = 3,
            Duplicates = 20,
            Warmup = TimeSpan.FromSeconds(1),
            Duration = TimeSpan.FromSeconds(3),
            Progress = false,
        };

        var result = await BenchmarkRunner.RunAsync(options, CancellationToken.None);

        var inbound = Assert.IsType<InboundResult>(result.Inbound);
        Assert.True(inbound.Errors == 0, "errors: " + string.Join("; ", inbound.ErrorSamples));
        Assert.True(inbound.Accepted > 0 && inbound.AcceptedPerSecond > 0, $"{inbound.Accepted} accepted in {inbound.MeasuredSeconds}s");
        Assert.True(inbound.Replayed > 0, $"no duplicate was answered from the record: {inbound.Accepted} accepted, {inbound.Sent} sent");
        Assert.True(inbound.Latency.Count > 0 && inbound.Latency.P50Us > 0, $"latency {inbound.Latency}");
        Assert.Contains("accepted/s", result.Markdown);
    }
}
