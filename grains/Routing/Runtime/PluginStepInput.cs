using System.Buffers;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Events;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// What a routing step gives a plugin (docs/plugins.md "Input"): <c>event</c>, the trigger's envelope exactly as the
/// events API shows it, and <c>vars</c>, the route's extracted values with the earlier plugin steps' <c>set</c> values
/// under <c>plugin</c>. The plugin grain adds the fields every call has.
/// </summary>
public static class PluginStepInput
{
    public static string Compose(RoutingEvent e, IReadOnlyDictionary<string, string> extracted, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(extracted);
        ArgumentNullException.ThrowIfNull(values);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WritePropertyName("event");
            var id = Ulid.TryParse(e.EventId, out var ulid) ? ulid : Ulid.Empty;
            var data = e.EnvelopeData.ValueKind == JsonValueKind.Undefined ? "{}" : e.EnvelopeData.GetRawText();
            EventJson.WriteEnvelope(json, new StoredEvent(e.Cursor, id, e.Type, e.Tenant, e.ConversationId, e.Seq, e.Time, e.Causation, data));
            json.WritePropertyName("vars");
            json.WriteStartObject();
            foreach (var (name, value) in extracted)
            {
                json.WriteString(name, value);
            }

            json.WritePropertyName("plugin");
            json.WriteStartObject();
            foreach (var (name, value) in values)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
