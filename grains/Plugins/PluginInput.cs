using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Plugins;

namespace Kefu.Grains.Plugins;

/// <summary>
/// The input a plugin gets (docs/plugins.md "Input"): the fields every call has, written by Kefu — a caller cannot
/// pose as another tenant or plugin — around the hook's own fields.
/// </summary>
public static class PluginInput
{
    public static string? Compose(PluginCall call, string tenant, string plugin, string configJson, TimeSpan timeLeft)
    {
        JsonObject fields;
        try
        {
            if (JsonNode.Parse(string.IsNullOrWhiteSpace(call.InputJson) ? "{}" : call.InputJson) is not JsonObject parsed)
                return null;
            fields = parsed;
        }
        catch (JsonException)
        {
            return null;
        }
        var input = new JsonObject
        {
            ["abi"] = 1,
            ["hook"] = call.Hook,
            ["tenant"] = tenant,
            ["plugin"] = plugin,
            ["config"] = JsonNode.Parse(string.IsNullOrWhiteSpace(configJson) ? "{}" : configJson),
            ["time_left_ms"] = Math.Max(0, (long)timeLeft.TotalMilliseconds),
        };
        foreach (var (key, value) in fields.ToArray())
        {
            if (input.ContainsKey(key))
                continue;
            fields.Remove(key);
            input[key] = value;
        }
        return input.ToJsonString();
    }
}
