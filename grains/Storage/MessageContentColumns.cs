using System.Buffers;
using System.Text.Json;
using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;

namespace Kefu.Grains.Storage;

/// <summary>
/// A message's typed content in the columns <c>content_kind</c> and <c>content</c> of <c>kefu_message</c>
/// (deploy/mysql/007-message-content.sql): the kind as a small number, and for kinds other than text their members
/// as UTF-8 JSON. A row written before that script has no kind (NULL): it is text, or an attachment when its text is
/// the legacy form <c>[attachment:{id}:{type}] {name}</c>.
/// </summary>
internal static class MessageContentColumns
{
    /// <summary>Plain text: <c>content</c> is NULL.</summary>
    public const byte Text = 0;

    /// <summary>An uploaded file: <c>content</c> is <c>{"attachmentId","contentType","name","size"}</c>.</summary>
    public const byte Attachment = 1;

    /// <summary>The kind code and the JSON of <paramref name="content"/> (null for text).</summary>
    public static (byte Kind, byte[]? Json) Encode(MessageContent? content)
    {
        switch (content)
        {
            case null or TextContent:
                return (Text, null);
            case AttachmentContent a:
                var buffer = new ArrayBufferWriter<byte>(256);
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteString("attachmentId", a.AttachmentId);
                    json.WriteString("contentType", a.ContentType);
                    json.WriteString("name", a.Name);
                    json.WriteNumber("size", a.Size);
                    json.WriteEndObject();
                }

                return (Attachment, buffer.WrittenSpan.ToArray());
            default:
                throw new ArgumentException($"Content of kind '{content.Kind}' has no stored form.", nameof(content));
        }
    }

    /// <summary>
    /// The message with the content its row holds; <paramref name="kind"/> null = a row from before typed content. A
    /// kind this version does not know (written by a newer one) reads as its text, which every message carries.
    /// </summary>
    public static ChatMessage Decode(ChatMessage message, byte? kind, byte[]? json) => kind switch
    {
        null => MessageContentRules.Typed(message),
        Attachment when json is not null => message with { Content = ReadAttachment(json) },
        _ => message,
    };

    private static AttachmentContent ReadAttachment(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new AttachmentContent(
            root.GetProperty("attachmentId").GetString()!,
            root.GetProperty("contentType").GetString()!,
            root.GetProperty("name").GetString()!,
            root.GetProperty("size").GetInt64());
    }
}
