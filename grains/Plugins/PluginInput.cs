using System.Buffers;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Plugins;

namespace Kefu.Grains.Plugins;

/// <summary>
/// The input a plugin gets (docs/plugins.md "Input"): the fields every call has, written by Kefu — a caller cannot
/// pose as another tenant or plugin — around the hook's own fields. On every hooked message: written once with a
/// writer, the configuration (checked as a JSON object at upload) copied as it is, the hook's fields read once.
/// </summary>
public static class PluginInput
{
    private static readonly string[] Reserved = ["abi", "hook", "tenant", "plugin", "config", "time_left_ms"];

    public static string? Compose(PluginCall call, string tenant, string plugin, string configJson, TimeSpan timeLeft)
    {
        JsonDocument fields;
        try
        {
            fields = JsonDocument.Parse(string.IsNullOrWhiteSpace(call.InputJson) ? "{}" : call.InputJson);
        }
        catch (JsonException)
        {
            return null;
        }

        using (fields)
        {
            if (fields.RootElement.ValueKind != JsonValueKind.Object)
                return null;
            var buffer = new ArrayBufferWriter<byte>(call.InputJson.Length + configJson.Length + 256);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteNumber("abi", 1);
                writer.WriteString("hook", call.Hook);
                writer.WriteString("tenant", tenant);
                writer.WriteString("plugin", plugin);
                writer.WritePropertyName("config");
                writer.WriteRawValue(string.IsNullOrWhiteSpace(configJson) ? "{}" : configJson);
                writer.WriteNumber("time_left_ms", Math.Max(0, (long)timeLeft.TotalMilliseconds));
                foreach (var field in fields.RootElement.EnumerateObject())
                {
                    if (!Reserved.Contains(field.Name))
                        field.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }
}
