using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kefu.Gateway.Tests.Routing;

/// <summary>
/// A gateway of its own for routing tests: a tenant's rules act on every inbound event, so they must not meet the other
/// tests' events. No rules file (the silo would otherwise load <c>config/routing.yaml</c> from the working directory).
/// </summary>
public class RoutingGatewayFixture : GatewayFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:Routing:File"] = Path.Combine(Path.GetTempPath(), "kefu-no-such-routing-" + Guid.NewGuid().ToString("N") + ".yaml"),
    };
}

[CollectionDefinition(Name)]
public sealed class RoutingGatewayCollection : ICollectionFixture<RoutingGatewayFixture>
{
    public const string Name = "routing-gateway";
}

/// <summary>A gateway whose tenant never gets rules: what the API answers before any are set.</summary>
public sealed class EmptyRoutingGatewayFixture : RoutingGatewayFixture
{
    /// <summary>Nobody chats here.</summary>
    protected override bool StaffDefaultInbox => false;
}

/// <summary>One request as the fake ERP saw it.</summary>
public sealed record ErpRequest(string Method, string Path, string Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A business system on a loopback Kestrel port, as the seed's <c>ERP</c> connector calls it: it records every request
/// and answers 200 with a small JSON body.
/// </summary>
public sealed class FakeErp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeErp(WebApplication app) => _app = app;

    public ConcurrentQueue<ErpRequest> Received { get; } = new();

    public string BaseUrl => _app.Urls.First();

    public static async Task<FakeErp> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var erp = new FakeErp(app);
        app.Run(erp.HandleAsync);
        await app.StartAsync();
        return erp;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        Received.Enqueue(new ErpRequest(context.Request.Method, context.Request.Path.Value ?? string.Empty, body, headers));
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"synced":true}""");
    }
}

public static class RoutingText
{
    /// <summary>
    /// The seed's file (INTEGRATION.md §6) as written, with its <c>ERP</c> connector pointing at <paramref name="erpBaseUrl"/>.
    /// <paramref name="comment"/> makes the text (and so its hash) unique to a test.
    /// </summary>
    public static string Seed(string erpBaseUrl, string? comment = null) => $$"""
        # {{comment ?? "seed"}}
        routes:
          - match: "order_status"
            actions:
              - call: "ERP::updateOrder"
              - reply_template: "您的订单#{order_id}已更新"
            timeout: 3s
            retry: 2

        connectors:
          ERP:
            kind: http
            baseUrl: "{{erpBaseUrl}}"
            operations:
              updateOrder: { method: POST, path: "/orders/{order_id}/sync" }
        """;

    public static StringContent Yaml(string text, string mediaType = "application/yaml") => new(text, Encoding.UTF8, new MediaTypeHeaderValue(mediaType));

    public static string Hash(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>Polls <paramref name="condition"/> until it holds (no fixed sleep before an assertion), failing after 20 s.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting: " + what());
            await Task.Delay(50);
        }
    }
}
