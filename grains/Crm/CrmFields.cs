using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Crm;

/// <summary>
/// A local record as the CRM should hold it: Kefu field → text (a field without a value is absent). <see cref="Version"/>
/// orders snapshots of one record (its update time in ticks).
/// </summary>
public sealed record CrmSnapshot(IReadOnlyDictionary<string, string> Fields, long Version, DateTimeOffset UpdatedAt);

/// <summary>
/// The fields Kefu can sync, the canonical text of their values, and their place in the CRM's JSON (dotted paths). One
/// concern: turning records into field maps, field maps into request bodies, answers back into field maps, and field
/// maps into the hash that says whether two of them are the same.
/// </summary>
public static class CrmFields
{
    public const string AttributePrefix = "attributes.";

    public static readonly string[] ContactFields = ["contactId", "externalId", "name", "email"];

    public static readonly string[] ConversationFields =
    [
        "conversationId", "contactId", "inbox", "status", "visitorName", "assignee", "team", "priority", "tags", "createdAt",
        "resolvedAt", "rating", "ratingComment", "messageCount", "transcript",
    ];

    /// <summary>Contact fields a CRM value can be written back to (crm_wins, a conflict settled for the CRM).</summary>
    public static bool IsWritable(string field) => field is "name" or "email" || IsAttribute(field);

    public static bool IsKnown(string kind, string field) => kind == CrmRecordKinds.Contact
        ? Array.IndexOf(ContactFields, field) >= 0 || IsAttribute(field)
        : Array.IndexOf(ConversationFields, field) >= 0;

    private static bool IsAttribute(string field) => field.StartsWith(AttributePrefix, StringComparison.Ordinal) && field.Length > AttributePrefix.Length;

    public static CrmSnapshot Of(Contact contact)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal) { ["contactId"] = contact.ContactId };
        Add(fields, "externalId", contact.ExternalId);
        Add(fields, "name", contact.Name);
        Add(fields, "email", contact.Email);
        foreach (var (key, value) in contact.Attributes)
        {
            fields[AttributePrefix + key] = value;
        }

        return new CrmSnapshot(fields, VersionOf(contact.UpdatedAt), contact.UpdatedAt);
    }

    /// <summary>A conversation as an activity: its metadata and its transcript (one line per message, oldest first).</summary>
    public static CrmSnapshot Of(ConversationSummary summary, string? contactId, IReadOnlyList<ChatMessage> messages)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["conversationId"] = summary.ConversationId,
            ["inbox"] = summary.Inbox,
            ["status"] = summary.Status,
            ["priority"] = summary.Priority,
            ["createdAt"] = Time(summary.CreatedAt),
            ["messageCount"] = messages.Count.ToString(CultureInfo.InvariantCulture),
            ["transcript"] = Transcript(messages),
        };
        Add(fields, "contactId", contactId);
        Add(fields, "visitorName", summary.VisitorName);
        Add(fields, "assignee", summary.AssigneeName ?? summary.AssigneeId);
        Add(fields, "team", summary.Team);
        Add(fields, "tags", summary.Tags is { Length: > 0 } tags ? string.Join(",", tags) : null);
        Add(fields, "resolvedAt", summary.ResolvedAt is { } resolved ? Time(resolved) : null);
        Add(fields, "rating", summary.Csat?.Rating.ToString(CultureInfo.InvariantCulture));
        Add(fields, "ratingComment", summary.Csat?.Comment);

        // The activity changes when the conversation is resolved (again) or rated: that is its version.
        var version = new[] { summary.CreatedAt, summary.ResolvedAt ?? summary.CreatedAt, summary.Csat?.Ts ?? summary.CreatedAt }.Max();
        return new CrmSnapshot(fields, VersionOf(version), version);
    }

    /// <summary>A record's version: its change time in microseconds (what the event log keeps of a time).</summary>
    public static long VersionOf(DateTimeOffset time) => time.UtcTicks / 10;

    public static string Transcript(IReadOnlyList<ChatMessage> messages)
    {
        var text = new StringBuilder();
        foreach (var m in messages)
        {
            text.Append('[').Append(Time(m.Ts)).Append("] ").Append(m.Sender.Role.ToString().ToLowerInvariant()).Append(' ')
                .Append(m.Sender.Name ?? m.Sender.Id).Append(": ").Append(m.Text).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The mapped fields of a snapshot (Kefu field → value; unmapped fields are not synced).</summary>
    public static SortedDictionary<string, string?> Mapped(IReadOnlyDictionary<string, string> fields, IReadOnlyDictionary<string, string> mapping)
    {
        var mapped = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var field in mapping.Keys)
        {
            mapped[field] = fields.TryGetValue(field, out var value) ? value : null;
        }

        return mapped;
    }

    /// <summary>SHA-256 of the field map in field order, absent and null alike: equal maps, equal hashes.</summary>
    public static string Hash(IReadOnlyDictionary<string, string?> fields)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (field, value) in fields.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                if (value is not null)
                {
                    writer.WriteString(field, value);
                }
            }

            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    /// <summary>
    /// The upsert body: the constants, then each mapped value at its CRM path under <paramref name="fieldsAt"/> (absent values
    /// as JSON null, so the CRM clears them). <c>{id}</c> in a constant's JSON is the record's Kefu id.
    /// </summary>
    public static byte[] Body(
        IReadOnlyDictionary<string, string?> mapped, IReadOnlyDictionary<string, string> mapping, IReadOnlyDictionary<string, string> constants,
        string? fieldsAt, string recordId)
    {
        JsonNode root = new JsonObject();
        foreach (var (path, json) in constants)
        {
            var escapedId = JsonSerializer.Serialize(recordId)[1..^1];
            root = Set(root, path, JsonNode.Parse(json.Replace("{id}", escapedId, StringComparison.Ordinal)));
        }

        foreach (var (field, value) in mapped)
        {
            root = Set(root, Join(fieldsAt, mapping[field]), value is null ? null : JsonValue.Create(value));
        }

        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    /// <summary>The mapped fields as the CRM's answer holds them (a missing or null member is absent; numbers and booleans as their JSON text).</summary>
    public static SortedDictionary<string, string?> ReadBack(JsonElement root, IReadOnlyDictionary<string, string> mapping, string? fieldsAt = null)
    {
        var fields = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (field, path) in mapping)
        {
            fields[field] = At(root, Join(fieldsAt, path)) is { } element ? Text(element) : null;
        }

        return fields;
    }

    /// <summary>The element at a dotted path (a number indexes an array), or null.</summary>
    public static JsonElement? At(JsonElement root, string path)
    {
        var current = root;
        foreach (var segment in path.Split('.'))
        {
            if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                if (index >= current.GetArrayLength())
                {
                    return null;
                }

                current = current[index];
            }
            else if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
            {
                return null;
            }
        }

        return current.ValueKind == JsonValueKind.Null ? null : current;
    }

    private static string Join(string? prefix, string path) => string.IsNullOrEmpty(prefix) ? path : prefix + "." + path;

    private static string Text(JsonElement element) => element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();

    /// <summary>Sets <paramref name="value"/> at a dotted path, making objects (or arrays, for number segments) on the way.</summary>
    private static JsonNode Set(JsonNode root, string path, JsonNode? value)
    {
        var segments = path.Split('.');
        var current = root;
        for (var i = 0; i < segments.Length; i++)
        {
            var last = i == segments.Length - 1;
            var nextIsIndex = !last && IsIndex(segments[i + 1]);
            JsonNode? Make() => last ? value : nextIsIndex ? new JsonArray() : new JsonObject();
            if (current is JsonArray array && IsIndex(segments[i]))
            {
                var index = int.Parse(segments[i], CultureInfo.InvariantCulture);
                while (array.Count <= index)
                {
                    array.Add(null);
                }

                if (last || array[index] is null)
                {
                    array[index] = Make();
                }

                current = array[index]!;
            }
            else if (current is JsonObject obj)
            {
                if (last || obj[segments[i]] is null)
                {
                    obj[segments[i]] = Make();
                }

                current = obj[segments[i]]!;
            }
            else
            {
                throw new InvalidOperationException($"The CRM path {path} goes through a value that is not an object or array.");
            }

            if (last)
            {
                break;
            }
        }

        return root;
    }

    private static bool IsIndex(string segment) => segment.Length is > 0 and <= 4 && segment.All(char.IsAsciiDigit);

    private static void Add(Dictionary<string, string> fields, string field, string? value)
    {
        if (value is not null)
        {
            fields[field] = value;
        }
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
