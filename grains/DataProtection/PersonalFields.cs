using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// Blanks the personal fields of an event's public data JSON (a contact's erasure, docs/data-protection.md): texts,
/// names, emails, external ids, rating comments, mail subjects and recipients, attributes and free-form data objects.
/// Ids, types, statuses, numbers and times stay, so cursors, counts and timelines stay whole and schemas still hold
/// (a string becomes "", an object {}). Applying it twice changes nothing the second time.
/// </summary>
public static class PersonalFields
{
    /// <summary>String members that carry what a person wrote or who they are.</summary>
    private static readonly HashSet<string> Texts = new(StringComparer.Ordinal)
    {
        "text", "name", "email", "externalId", "visitorName", "comment", "subject", "error",
    };

    /// <summary>Object members whose every key and value is the sender's or the customer's own (free-form data, attributes).</summary>
    private static readonly HashSet<string> FreeForm = new(StringComparer.Ordinal) { "data", "attributes" };

    /// <summary>The data JSON with its personal fields blanked.</summary>
    public static string Blank(string dataJson)
    {
        using var document = JsonDocument.Parse(dataJson);
        var buffer = new ArrayBufferWriter<byte>(dataJson.Length + 16);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(json, document.RootElement);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter json, JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            json.WriteStartArray();
            foreach (var item in element.EnumerateArray())
            {
                Write(json, item);
            }

            json.WriteEndArray();
            return;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            element.WriteTo(json);
            return;
        }

        json.WriteStartObject();
        foreach (var property in element.EnumerateObject())
        {
            json.WritePropertyName(property.Name);
            var value = property.Value;
            if (value.ValueKind == JsonValueKind.String && (Texts.Contains(property.Name) || (property.Name == "to" && IsAddress(value.GetString()))))
            {
                json.WriteStringValue(string.Empty);
            }
            else if (value.ValueKind == JsonValueKind.Object && FreeForm.Contains(property.Name))
            {
                json.WriteStartObject();
                json.WriteEndObject();
            }
            else
            {
                Write(json, value);
            }
        }

        json.WriteEndObject();
    }

    /// <summary>A mail's recipient ("to" is also a status in conversation.status_changed, which stays).</summary>
    private static bool IsAddress(string? value) => value is not null && value.Contains('@', StringComparison.Ordinal);
}
