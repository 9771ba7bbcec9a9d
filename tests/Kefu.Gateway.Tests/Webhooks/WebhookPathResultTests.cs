using System.Text.Json;
using Kefu.Benchmarks;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>The webhooks run's <c>--result</c> against the shared webhooks gateway, briefly and slowly.</summary>
[Collection(WebhooksGatewayCollection.Name)]
public sealed class WebhookPathResultTests(WebhooksGatewayFixture gateway) : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "kefu-webhooks-result-" + Guid.NewGuid().ToString("N") + ".json");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task Webhooks_result_has_deliveries_per_second_and_commit_to_delivery_latency()
    {
        var code = await WebhookRun.RunAsync(
            ["--url", gateway.BaseUri.ToString(), "--admin-password", GatewayFixture.AdminPassword,
             "--visitors", "4", "--rate", "20", "--warmup", "0.5", "--duration", "2", "--result", _file],
            CancellationToken.None);

        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(_file));
        var root = json.RootElement;
        Assert.Equal("webhooks", root.GetProperty("run").GetString());
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.True(root.GetProperty("throughput").GetDouble() > 0);
        Assert.True(root.GetProperty("p50Ms").GetDouble() <= root.GetProperty("p99Ms").GetDouble());
    }
}
