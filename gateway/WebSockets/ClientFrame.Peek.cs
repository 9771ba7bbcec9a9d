using System.Text;
using System.Text.Json;

namespace Kefu.Gateway.WebSockets;

public sealed partial class ClientFrame
{
    /// <summary>Longest clientMsgId (in UTF-8 bytes) a peek decodes; a longer one is echoed by nobody anyway.</summary>
    private const int MaxPeekedIdBytes = 256;

    /// <summary>
    /// The <c>clientMsgId</c> of a frame that is refused before it is parsed (rate limited), so the error can still
    /// name it as <c>ref</c> and the client retries that message. A scan, not a parse: nothing but the id (at most
    /// <see cref="MaxPeekedIdBytes"/>) is decoded or allocated; anything malformed just gives null.
    /// </summary>
    public static string? PeekClientMsgId(ReadOnlySpan<byte> data, FrameEncoding encoding) =>
        encoding == FrameEncoding.Binary ? PeekProtobuf(data) : PeekJson(data);

    private static string? PeekJson(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("clientMsgId"u8);
                reader.Read();
                if (isId)
                {
                    return reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= MaxPeekedIdBytes ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // Malformed: no reference.
        }

        return null;
    }

    /// <summary>ClientFrame field 1 (send), then its field 1 (client_msg_id).</summary>
    private static string? PeekProtobuf(ReadOnlySpan<byte> data)
    {
        var send = Field(data, 1);
        var id = send.IsEmpty ? default : Field(send, 1);
        return id.IsEmpty || id.Length > MaxPeekedIdBytes ? null : Encoding.UTF8.GetString(id);
    }

    /// <summary>The bytes of the first length-delimited field <paramref name="number"/>; empty if none or malformed.</summary>
    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> data, int number)
    {
        var at = 0;
        while (at < data.Length)
        {
            if (!TryVarint(data, ref at, out var tag))
            {
                return default;
            }

            switch (tag & 7)
            {
                case 0:
                    if (!TryVarint(data, ref at, out _))
                    {
                        return default;
                    }

                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    if (!TryVarint(data, ref at, out var length) || length > (ulong)(data.Length - at))
                    {
                        return default;
                    }

                    if (tag >> 3 == (ulong)number)
                    {
                        return data.Slice(at, (int)length);
                    }

                    at += (int)length;
                    break;
                default:
                    return default;
            }
        }

        return default;
    }

    private static bool TryVarint(ReadOnlySpan<byte> data, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && at < data.Length; shift += 7)
        {
            var b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
