using System.Text.Json;
using System.Text.RegularExpressions;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.Telemetry;

/// <summary>deploy/grafana/kefu-dashboard.json queries only series the app exports, through the datasource variable.</summary>
public sealed partial class DashboardTests
{
    private static readonly string DashboardPath = Path.Combine(Repository.Root, "deploy", "grafana", "kefu-dashboard.json");

    [Fact]
    public void Every_kefu_series_the_dashboard_queries_is_one_the_app_exports()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var exported = KefuSeries.All();
        var queries = Expressions(dashboard.RootElement).ToList();
        Assert.NotEmpty(queries);

        var queried = queries.SelectMany(q => KefuName().Matches(q).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        Assert.True(queried.Count >= 10, "The dashboard should chart the Kefu meter: " + string.Join(", ", queried));
        var unknown = queried.Where(n => !exported.Contains(n)).ToList();
        Assert.True(unknown.Count == 0, $"Not exported: {string.Join(", ", unknown)}\nExported: {string.Join(", ", exported.Order())}");

        // The key series of issue #20 are charted.
        foreach (var key in (string[])["kefu_messages_delivered_total", "kefu_ack_duration_seconds_bucket", "kefu_connections", "kefu_conversations",
                     "kefu_queue_wait_seconds_bucket", "kefu_webhook_deliveries_total", "kefu_webhook_failures_total"])
        {
            Assert.Contains(key, queried);
        }
    }

    [Fact]
    public void Every_panel_uses_the_datasource_variable()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = dashboard.RootElement;
        Assert.Contains(root.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.Str("type") == "datasource" && v.Str("query") == "prometheus" && v.Str("name") == "datasource");
        foreach (var panel in root.GetProperty("panels").EnumerateArray())
        {
            Assert.Equal("${datasource}", panel.GetProperty("datasource").Str("uid"));
            Assert.All(panel.GetProperty("targets").EnumerateArray(), t => Assert.Equal("${datasource}", t.GetProperty("datasource").Str("uid")));
        }
    }

    private static IEnumerable<string> Expressions(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        yield return property.Value.GetString()!;
                    }
                    else
                    {
                        foreach (var inner in Expressions(property.Value))
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var inner in Expressions(item))
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }

    [GeneratedRegex(@"\bkefu_[a-z0-9_]+")]
    private static partial Regex KefuName();
}
