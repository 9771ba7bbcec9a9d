using Kefu.Benchmarks;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Webhooks;

/// <summary>The benchmark's webhooks mode against the in-process gateway, briefly and slowly: it keeps working.</summary>
[Collection(WebhooksGatewayCollection.Name)]
public sealed class WebhookBenchmarkSmokeTests(WebhooksGatewayFixture gateway)
{
    [Fact]
    public async Task BenchmarkSmoke_webhooks_mode_delivers_every_message_of_the_window_signed()
    {
        var code = await WebhookRun.RunAsync(
            ["--url", gateway.BaseUri.ToString(), "--admin-password", GatewayFixture.AdminPassword,
             "--visitors", "4", "--rate", "20", "--warmup", "0.5", "--duration", "2"],
            CancellationToken.None);

        // 0: every message sent in the window was delivered (2xx, once per webhook-id) and every signature verified.
        Assert.Equal(0, code);
    }
}
