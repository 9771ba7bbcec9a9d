using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using IntegrationProto = Kefu.Contracts.Integration;

namespace Kefu.Grains.Inbound;

/// <summary>
/// The inbound business event body (INTEGRATION.md §3) checked the same way for every transport: <c>POST /api/v1/webhook</c>
/// and Kafka <c>customer_events</c> as JSON, gRPC <c>Publish</c> and Kafka with <c>content-type: application/protobuf</c> as
/// the protobuf twin. The body hash is of one canonical form of the parsed fields, so the same event sent as JSON and as
/// protobuf (or with other whitespace, or other unknown members) is the same body to deduplication.
/// </summary>
public static class InboundParser
{
    public const int MaxIdLength = 128;
    public const int MaxTypeLength = 128;
    public const int MaxExternalIdLength = 128;
    public const int MaxNameLength = 200;
    public const int MaxEmailLength = 320;

    /// <summary>The JSON body's root object. Unknown members are ignored (senders may add their own).</summary>
    /// <param name="allowedInboxes">A key's inboxes (null: every inbox); a contact's new conversation starts in the first.</param>
    public static (InboundEvent? Event, KefuError? Error) Parse(JsonElement root, string[]? allowedInboxes)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The body must be a JSON object.");
        }

        var (id, error) = Text(root, "id", MaxIdLength, required: true);
        if (error is not null)
        {
            return (null, error);
        }

        (var type, error) = Text(root, "type", MaxTypeLength, required: true);
        if (error is not null)
        {
            return (null, error);
        }

        (var conversationId, error) = Text(root, "conversationId", 64, required: false);
        if (error is not null)
        {
            return (null, error);
        }

        string? externalId = null, name = null, email = null;
        if (root.TryGetProperty("contact", out var contact) && contact.ValueKind != JsonValueKind.Null)
        {
            if (contact.ValueKind != JsonValueKind.Object)
            {
                return Invalid("contact must be an object with externalId.");
            }

            (externalId, error) = Text(contact, "externalId", MaxExternalIdLength, required: true, "contact.externalId");
            (name, var nameError) = Text(contact, "name", MaxNameLength, required: false, "contact.name");
            (email, var emailError) = Text(contact, "email", MaxEmailLength, required: false, "contact.email");
            if ((error ?? nameError ?? emailError) is { } contactError)
            {
                return (null, contactError);
            }
        }

        string? data = null;
        if (root.TryGetProperty("data", out var dataElement) && dataElement.ValueKind != JsonValueKind.Null)
        {
            if (dataElement.ValueKind != JsonValueKind.Object)
            {
                return Invalid("data must be a JSON object.");
            }

            data = Encoding.UTF8.GetString(Compact(dataElement));
        }

        (var inbox, error) = Text(root, "inbox", 64, required: false);
        if (error is not null)
        {
            return (null, error);
        }

        return Build(id!, type!, conversationId, externalId, name, email, data, inbox, allowedInboxes);
    }

    /// <summary>The protobuf twin (<see cref="IntegrationProto.InboundEvent"/>): the same rules as the JSON body.</summary>
    public static (InboundEvent? Event, KefuError? Error) Parse(IntegrationProto.InboundEvent? body, string[]? allowedInboxes)
    {
        if (body is null)
        {
            return (null, new KefuError(ErrorCodes.MissingField, "event is required."));
        }

        var (id, error) = Text(body.Id, "id", MaxIdLength, required: true);
        if (error is not null)
        {
            return (null, error);
        }

        (var type, error) = Text(body.Type, "type", MaxTypeLength, required: true);
        if (error is not null)
        {
            return (null, error);
        }

        string? conversationId = null;
        if (!body.ConversationId.IsEmpty)
        {
            if (body.ConversationId.Length != 16)
            {
                return Invalid("conversation_id must be a 16-byte ULID.");
            }

            conversationId = new Ulid(body.ConversationId.Span).ToString();
        }

        string? externalId = null, name = null, email = null;
        if (body.Contact is { } contact)
        {
            (externalId, error) = Text(contact.ExternalId, "contact.external_id", MaxExternalIdLength, required: true);
            (name, var nameError) = contact.HasName ? Text(contact.Name, "contact.name", MaxNameLength, required: false) : (null, null);
            (email, var emailError) = contact.HasEmail ? Text(contact.Email, "contact.email", MaxEmailLength, required: false) : (null, null);
            if ((error ?? nameError ?? emailError) is { } contactError)
            {
                return (null, contactError);
            }
        }

        string? data = null;
        if (body.DataJson.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(body.DataJson);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return Invalid("data_json must be a JSON object.");
                }

                data = Encoding.UTF8.GetString(Compact(document.RootElement));
            }
            catch (JsonException)
            {
                return Invalid("data_json must be a JSON object.");
            }
        }

        (var inbox, error) = Text(body.Inbox, "inbox", 64, required: false);
        return error is not null ? (null, error) : Build(id!, type!, conversationId, externalId, name, email, data, inbox, allowedInboxes);
    }

    private static (InboundEvent?, KefuError?) Build(
        string id, string type, string? conversationId, string? externalId, string? name, string? email, string? data, string? inbox,
        string[]? allowedInboxes)
    {
        if (conversationId is not null && externalId is not null)
        {
            return Invalid("Give conversationId or contact, not both.");
        }

        if (conversationId is not null && !Ulid.TryParse(conversationId, out _))
        {
            // Conversation ids are ULIDs: anything else names no conversation (and activates no grain).
            return (null, KefuError.NotFound("Conversation"));
        }

        if (inbox is not null && !Tenancy.IsValidName(inbox))
        {
            return Invalid("inbox must be an inbox name.");
        }

        var hash = Hash(id, type, conversationId, externalId, name, email, data, inbox);
        var startInbox = inbox ?? (allowedInboxes is { Length: > 0 } ? allowedInboxes[0] : Tenancy.DefaultInbox);
        return (new InboundEvent(id, type, conversationId, externalId, name, email, data ?? "{}", hash, startInbox, allowedInboxes), null);
    }

    /// <summary>SHA-256 of the canonical form: the fields in a fixed order, <c>data</c> as compact JSON (its member order kept).</summary>
    private static string Hash(string id, string type, string? conversationId, string? externalId, string? name, string? email, string? data, string? inbox)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("type", type);
            WriteIfSet(writer, "conversationId", conversationId);
            if (externalId is not null)
            {
                writer.WriteStartObject("contact");
                writer.WriteString("externalId", externalId);
                WriteIfSet(writer, "name", name);
                WriteIfSet(writer, "email", email);
                writer.WriteEndObject();
            }

            WriteIfSet(writer, "inbox", inbox);
            if (data is not null)
            {
                writer.WritePropertyName("data");
                writer.WriteRawValue(data, skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    private static byte[] Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static (string? Value, KefuError? Error) Text(JsonElement parent, string name, int maxLength, bool required, string? path = null)
    {
        var label = path ?? name;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return required ? (null, new KefuError(ErrorCodes.MissingField, $"{label} is required.")) : (null, null);
        }

        // Present but empty is a wrong value, not a missing one (protobuf cannot tell the two apart; JSON can).
        return element.ValueKind == JsonValueKind.String && element.GetString() is { Length: > 0 } value && value.Length <= maxLength
            ? (value, null)
            : (null, new KefuError(ErrorCodes.InvalidField, $"{label} must be a string of 1 to {maxLength} characters."));
    }

    /// <summary>Protobuf strings: empty is absent (proto3 has no null).</summary>
    private static (string? Value, KefuError? Error) Text(string? value, string label, int maxLength, bool required)
    {
        if (string.IsNullOrEmpty(value))
        {
            return required ? (null, new KefuError(ErrorCodes.MissingField, $"{label} is required.")) : (null, null);
        }

        return value.Length > maxLength
            ? (null, new KefuError(ErrorCodes.InvalidField, $"{label} must be a string of 1 to {maxLength} characters."))
            : (value, null);
    }

    private static (InboundEvent?, KefuError?) Invalid(string message) => (null, new KefuError(ErrorCodes.InvalidField, message));
}
