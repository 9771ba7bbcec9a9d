using System.Net;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Issue #20 item 1 on a silo process: with <c>Kefu:Telemetry:Prometheus:Enabled</c>, the silo's own HTTP port serves
/// <c>/metrics</c> with the Orleans runtime's series and the Kefu series its grains record (a conversation created by a
/// chat through the gateway counts on the silo that hosts it), and the process's runtime meters.
/// </summary>
public sealed class SiloMetricsClusterTests
{
    [Fact]
    public async Task A_silo_process_serves_orleans_and_kefu_series_after_grain_work()
    {
        await using var cluster = await KefuTestCluster.StartAsync(silos: 1, new Dictionary<string, string>
        {
            ["Kefu:Telemetry:Prometheus:Enabled"] = "true",
        });
        var (_, visitorToken) = await cluster.CreateVisitorAsync();
        await using (var visitor = await cluster.ConnectAsync(visitorToken))
        {
            await visitor.SendMessageAsync("count me");
        }

        using var silo = new HttpClient { BaseAddress = cluster.Silos[0].Process.Http, Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string text;
        while (true)
        {
            var response = await silo.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            // The exporter caches a scrape for a moment, so the conversation may show in a later one.
            if (Samples(text, "kefu_conversations").Any() || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(200);
        }

        // The new conversation entered a status (queued, or open when an agent got it at once): one, on this silo.
        Assert.Equal(1, Samples(text, "kefu_conversations").Sum(s => s.Value));
        Assert.Contains(Samples(text, "kefu_conversations"), s => s.Labels.Contains("status=\"", StringComparison.Ordinal));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("dotnet_", StringComparison.Ordinal) || l.StartsWith("process_runtime_dotnet_", StringComparison.Ordinal));
        // Only the silo's own meters: the gateway's connection gauge lives in the gateway process.
        Assert.Empty(Samples(text, "kefu_connections"));
    }

    /// <summary>The samples of one series in the Prometheus text format: its labels (as written) and value.</summary>
    private static IEnumerable<(string Labels, double Value)> Samples(string text, string name) =>
        text.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l =>
            {
                var close = l.LastIndexOf('}');
                var labels = close < 0 ? "" : l[(name.Length + 1)..close];
                var value = l[(close < 0 ? name.Length : close + 1)..].Trim().Split(' ')[0];
                return (labels, double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
            });
}
