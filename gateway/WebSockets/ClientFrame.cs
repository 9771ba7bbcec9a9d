using System.Text.Json;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.WebSockets;

/// <summary>A client → server frame of kefu.v1.json or kefu.v1.bin; fields not used by its type are ignored.</summary>
public sealed partial class ClientFrame
{
    public string? Type { get; private set; }

    public string? ClientMsgId { get; private set; }

    public string? Text { get; private set; }

    public string? ConversationId { get; private set; }

    public long? AfterSeq { get; private set; }

    /// <summary><c>sync</c>: at most this many messages, answered with <c>hasMore</c> (explicit paging); unset = all.</summary>
    public long? Limit { get; private set; }

    public long? Seq { get; private set; }

    public string? State { get; private set; }

    /// <summary><c>send</c>: the <c>content.kind</c> asked for (null = no content, a text message).</summary>
    public string? ContentKind { get; private set; }

    /// <summary><c>send</c> with <c>content.kind</c> <c>attachment</c>: the upload it refers to.</summary>
    public string? AttachmentId { get; private set; }

    /// <summary>Reads one frame, or says precisely what is wrong with it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClientFrame frame, out KefuError? error)
    {
        frame = new ClientFrame();
        error = null;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = new KefuError(ErrorCodes.BadFrame, "A frame must be one JSON object.");
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "type": frame.Type = ReadString(ref reader, name, ref error); break;
                    case "clientMsgId": frame.ClientMsgId = ReadString(ref reader, name, ref error); break;
                    case "text": frame.Text = ReadString(ref reader, name, ref error); break;
                    case "conversationId": frame.ConversationId = ReadString(ref reader, name, ref error); break;
                    case "state": frame.State = ReadString(ref reader, name, ref error); break;
                    case "afterSeq": frame.AfterSeq = ReadInteger(ref reader, name, ref error); break;
                    case "seq": frame.Seq = ReadInteger(ref reader, name, ref error); break;
                    case "limit": frame.Limit = ReadInteger(ref reader, name, ref error); break;
                    case "content": ReadContent(ref reader, frame, ref error); break;
                    default: reader.Skip(); break;
                }
            }

            if (reader.Read())
            {
                error = new KefuError(ErrorCodes.BadFrame, "Unexpected data after the frame's JSON object.");
            }
        }
        catch (JsonException ex)
        {
            error = new KefuError(ErrorCodes.BadFrame, $"Malformed JSON: {ex.Message}");
        }
        catch (InvalidOperationException)
        {
            // GetString of a string (value or property name) that is valid JSON but not valid text: a \u escape of an
            // unpaired surrogate such as "\ud800". Such text cannot be stored or sent to anyone, so the frame is refused.
            error = new KefuError(ErrorCodes.BadFrame, "Malformed JSON: a string holds an unpaired surrogate (e.g. \\ud800 without its pair).");
        }

        if (error is null && string.IsNullOrEmpty(frame.Type))
        {
            error = new KefuError(ErrorCodes.MissingField, "Every frame needs a 'type'.");
        }

        return error is null;
    }

    /// <summary>
    /// <c>{"kind":"attachment","attachmentId":"…"}</c> or <c>{"kind":"text"}</c>; other members (a client may echo a
    /// received content's type, name and size) are ignored: the server fills them from the upload.
    /// </summary>
    private static void ReadContent(ref Utf8JsonReader reader, ClientFrame frame, ref KefuError? error)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error ??= KefuError.Invalid("'content' must be an object.");
            reader.Skip();
            return;
        }

        string? kind = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "kind": kind = ReadString(ref reader, "content.kind", ref error); break;
                case "attachmentId": frame.AttachmentId = ReadString(ref reader, "content.attachmentId", ref error); break;
                default: reader.Skip(); break;
            }
        }

        // Present but without a kind: refused by the send handler, as a content that says nothing cannot be meant as text.
        frame.ContentKind = kind ?? string.Empty;
    }

    private static string? ReadString(ref Utf8JsonReader reader, string field, ref KefuError? error)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Null:
                return null;
            default:
                error ??= KefuError.Invalid($"'{field}' must be a string.");
                reader.Skip();
                return null;
        }
    }

    private static long? ReadInteger(ref Utf8JsonReader reader, string field, ref KefuError? error)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value))
        {
            return value;
        }

        error ??= KefuError.Invalid($"'{field}' must be an integer.");
        reader.Skip();
        return null;
    }
}
