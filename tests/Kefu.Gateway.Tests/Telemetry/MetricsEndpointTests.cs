using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Telemetry;

namespace Kefu.Gateway.Tests.Telemetry;

/// <summary>
/// Issue #20 item 1: after a chat over WebSocket, the Prometheus endpoint shows the chat in the key series. The gateway
/// runs as a process of its own: meters are process-wide, and the other gateways of this test process would count too.
/// </summary>
public sealed class MetricsEndpointTests : IDisposable
{
    private const int Messages = 5;
    private readonly string _directory = Directory.CreateTempSubdirectory("kefu-metrics-").FullName;

    [Fact]
    public async Task After_a_chat_metrics_show_deliveries_acks_and_connections_and_refuse_other_networks()
    {
        await using var gateway = await GatewayProcess.StartAsync(
            Path.Combine(_directory, "state.json"), null,
            "--Kefu:Telemetry:Prometheus:Enabled=true",
            // A trusted proxy on loopback, so the test can also ask as a client from elsewhere.
            "--Kefu:ForwardedHeaders:KnownProxies:0=127.0.0.1");
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Address), Timeout = TimeSpan.FromSeconds(30) };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = "admin", password = gateway.PrintedPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var adminToken = (await login.Content.ReadFromJsonAsync<JsonElement>()).Str("token")!;
        var visitor = await (await http.PostAsJsonAsync("/api/v1/visitors", new { name = "Counted" })).Content.ReadFromJsonAsync<JsonElement>();

        await using (var visitorSocket = await ChatClient.ConnectAsync(gateway.WebSocketUri, visitor.Str("token")!))
        await using (var agentSocket = await ChatClient.ConnectAsync(gateway.WebSocketUri, adminToken))
        {
            var conversationId = (await visitorSocket.SendMessageAsync("hello")).Str("conversationId")!;
            await agentSocket.SendAsync(new { type = "join", conversationId });
            await agentSocket.ReceiveUntilAsync("joined");
            for (var i = 0; i < Messages; i++)
            {
                await visitorSocket.SendMessageAsync($"message {i}", conversationId);
                await agentSocket.ReceiveUntilAsync("message", f => f.Str("text") == $"message {i}");
            }

            await agentSocket.SendMessageAsync("an answer", conversationId);
            await visitorSocket.ReceiveUntilAsync("message", f => f.Str("text") == "an answer");

            var open = await ScrapeUntilAsync(http, s => s.Sum(Series(KefuMetrics.Connections)) == 2);
            Assert.Equal(1, open.Sum(Series(KefuMetrics.Connections), ("role", "visitor")));
            Assert.Equal(1, open.Sum(Series(KefuMetrics.Connections), ("role", "agent")));
        }

        var sent = Messages + 2;
        var after = await ScrapeUntilAsync(http, s => s.Sum(Series(KefuMetrics.Connections)) == 0);

        // Every message the agent got live and the visitor's answer: at least the messages sent after the join.
        Assert.True(after.Sum(Series(KefuMetrics.MessagesDelivered)) >= Messages + 1, Dump(after, "kefu_messages"));
        Assert.True(after.Sum(Series(KefuMetrics.MessagesDelivered), ("role", "agent")) >= Messages, Dump(after, "kefu_messages"));

        // One ack time per send, each under the test's own timeout, and the buckets are cumulative up to +Inf.
        var acks = after.Sum(Series(KefuMetrics.AckDuration, "_count"));
        Assert.Equal(sent, acks);
        Assert.Equal(Messages + 1, after.Sum(Series(KefuMetrics.AckDuration, "_count"), ("role", "visitor")));
        var ackSeconds = after.Sum(Series(KefuMetrics.AckDuration, "_sum"));
        Assert.InRange(ackSeconds, 0, sent * ChatClient.Timeout.TotalSeconds);
        Assert.Equal(acks, after.Sum(Series(KefuMetrics.AckDuration, "_bucket"), ("le", "+Inf")));

        // The conversation was created (queued) and taken: it is in some status, once.
        Assert.Equal(1, after.Sum(Series(KefuMetrics.Conversations)));

        // The platform's meters are there too: ASP.NET Core, Orleans, the runtime.
        Assert.Contains(after, s => s.Name.StartsWith("http_server_request_duration_seconds", StringComparison.Ordinal));
        Assert.Contains(after, s => s.Name.StartsWith("orleans_", StringComparison.Ordinal));
        Assert.Contains(after, s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal) || s.Name.StartsWith("process_runtime_dotnet_", StringComparison.Ordinal));

        // From a network not in AllowedNetworks (here: a client behind the trusted proxy): refused, with a stable code.
        using var outside = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        outside.Headers.Add("X-Forwarded-For", "198.51.100.23");
        var refused = await http.SendAsync(outside);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("not_allowed", (await refused.Content.ReadFromJsonAsync<JsonElement>()).Str("code"));
    }

    private static string Series(System.Diagnostics.Metrics.Instrument instrument, string suffix = "") => KefuSeries.Of(instrument, suffix);

    private static string Dump(List<PrometheusSample> samples, string prefix) =>
        string.Join('\n', samples.Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(s => $"{s.Name}{{{string.Join(',', s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}"));

    /// <summary>Scrapes until <paramref name="condition"/> holds (the exporter caches a scrape briefly; connections close asynchronously).</summary>
    private static async Task<List<PrometheusSample>> ScrapeUntilAsync(HttpClient http, Func<List<PrometheusSample>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var response = await http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var samples = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
            if (condition(samples))
            {
                return samples;
            }

            Assert.True(DateTime.UtcNow < deadline, "The metrics never showed the expected values:\n" + Dump(samples, "kefu_"));
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
