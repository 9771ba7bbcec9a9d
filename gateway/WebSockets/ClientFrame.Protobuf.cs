using Google.Protobuf;
using Kefu.Contracts.Messages;
using Proto = Kefu.Contracts.Protocol;

namespace Kefu.Gateway.WebSockets;

public sealed partial class ClientFrame
{
    /// <summary>
    /// Reads one kefu.v1.bin frame (a protobuf <see cref="Proto.ClientFrame"/>) into the same shape as a JSON frame,
    /// so both encodings share every handler; or says precisely what is wrong with it.
    /// </summary>
    public static bool TryParseProtobuf(ReadOnlySpan<byte> data, out ClientFrame frame, out KefuError? error)
    {
        frame = new ClientFrame();
        error = null;
        Proto.ClientFrame parsed;
        try
        {
            parsed = Proto.ClientFrame.Parser.ParseFrom(data);
        }
        catch (InvalidProtocolBufferException ex)
        {
            error = new KefuError(ErrorCodes.BadFrame, $"Malformed protobuf: {ex.Message}");
            return false;
        }

        switch (parsed.FrameCase)
        {
            case Proto.ClientFrame.FrameOneofCase.Send:
                var send = parsed.Send;
                frame.Type = "send";
                frame.ClientMsgId = send.ClientMsgId.Length > 0 ? send.ClientMsgId : null;
                frame.Text = send.HasText ? send.Text : null;
                frame.ConversationId = ReadConversationId(send.ConversationId, ref error);
                if (send.Content is { } content)
                {
                    ReadContent(content, frame, ref error);
                }

                break;
            case Proto.ClientFrame.FrameOneofCase.Join:
                frame.Type = "join";
                frame.ConversationId = ReadConversationId(parsed.Join.ConversationId, ref error);
                break;
            case Proto.ClientFrame.FrameOneofCase.Sync:
                frame.Type = "sync";
                frame.ConversationId = ReadConversationId(parsed.Sync.ConversationId, ref error);
                frame.AfterSeq = parsed.Sync.AfterSeq;
                frame.Limit = parsed.Sync.HasLimit ? parsed.Sync.Limit : null;
                break;
            case Proto.ClientFrame.FrameOneofCase.Typing:
                frame.Type = "typing";
                frame.ConversationId = ReadConversationId(parsed.Typing.ConversationId, ref error);
                frame.State = parsed.Typing.State switch
                {
                    Proto.TypingState.Unspecified => null,
                    Proto.TypingState.On => "on",
                    Proto.TypingState.Off => "off",
                    // A value this server does not know: answered invalid_field by the handler.
                    var other => ((int)other).ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                break;
            case Proto.ClientFrame.FrameOneofCase.Read:
                frame.Type = "read";
                frame.ConversationId = ReadConversationId(parsed.Read.ConversationId, ref error);
                frame.Seq = parsed.Read.HasSeq ? parsed.Read.Seq : null;
                break;
            case Proto.ClientFrame.FrameOneofCase.Ping:
                frame.Type = "ping";
                break;
            case Proto.ClientFrame.FrameOneofCase.Status:
                frame.Type = "status";
                frame.State = parsed.Status.State switch
                {
                    Proto.AgentStatus.Unspecified => null,
                    Proto.AgentStatus.Online => "online",
                    Proto.AgentStatus.Away => "away",
                    Proto.AgentStatus.Offline => "offline",
                    var other => ((int)other).ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                break;
            default:
                // Nothing set at all, or only a case from a newer schema (kept as an unknown field).
                error = data.IsEmpty || parsed.CalculateSize() == 0
                    ? new KefuError(ErrorCodes.MissingField, "Every frame needs one of send, join, sync, typing, read, ping, status.")
                    : new KefuError(ErrorCodes.UnknownType, "Unknown frame type.");
                break;
        }

        return error is null;
    }

    /// <summary>Like JSON's <c>content</c>: a case this server does not know reads as an unknown kind (refused by send).</summary>
    private static void ReadContent(Proto.MessageContent content, ClientFrame frame, ref KefuError? error)
    {
        switch (content.KindCase)
        {
            case Proto.MessageContent.KindOneofCase.Text:
                frame.ContentKind = ContentKinds.Text;
                break;
            case Proto.MessageContent.KindOneofCase.Attachment:
                frame.ContentKind = ContentKinds.Attachment;
                var id = content.Attachment.AttachmentId;
                if (id.IsEmpty)
                {
                    break;
                }

                if (ProtoValues.TryReadUlid(id, out var ulid))
                {
                    frame.AttachmentId = ulid;
                }
                else
                {
                    error ??= KefuError.Invalid("'content.attachmentId' must be a 16-byte ULID.");
                }

                break;
            default:
                // No case: empty content (text), or only a case from a newer schema (kept as an unknown field), which
                // is a kind this server does not know (send answers invalid_field).
                frame.ContentKind = content.CalculateSize() == 0 ? ContentKinds.Text : "unknown";
                break;
        }
    }

    private static string? ReadConversationId(ByteString bytes, ref KefuError? error)
    {
        if (bytes.IsEmpty)
        {
            return null;
        }

        if (ProtoValues.TryReadUlid(bytes, out var ulid))
        {
            return ulid;
        }

        error ??= KefuError.Invalid("'conversationId' must be a 16-byte ULID.");
        return null;
    }
}
