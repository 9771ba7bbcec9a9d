using System.Net.Http.Headers;
using System.Text;
using Kefu.Gateway.Tests.Infrastructure;

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

    public static StringContent Yaml(string text, string mediaType = "application/yaml") => new(text, Encoding.UTF8, MediaTypeHeaderValue.Parse(mediaType));

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
