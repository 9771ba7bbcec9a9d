using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Kefu.Contracts.Protocol;
using Kefu.Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Case = Kefu.Contracts.Protocol.ServerFrame.FrameOneofCase;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// Whatever a client sends, a frame that cannot be parsed is answered with an <c>error</c> and the connection stays
/// usable: a later valid <c>send</c> is acked and stored. Both encodings, hand-picked nasty frames and seeded random
/// ones (the seed is in the test name's output when it fails, through the frame shown).
/// </summary>
[Collection(GuardGatewayCollection.Name)]
public sealed class FrameFuzzTests(GuardGatewayFixture gateway)
{
    public static TheoryData<string> LoneSurrogates => new()
    {
        "{\"type\":\"send\",\"clientMsgId\":\"s1\",\"text\":\"\\ud800\"}",
        "{\"type\":\"send\",\"clientMsgId\":\"s1\",\"text\":\"ok \\ud83d\"}",
        "{\"type\":\"send\",\"clientMsgId\":\"s1\",\"text\":\"\\ude00\\ud83d\"}",
        "{\"type\":\"send\",\"clientMsgId\":\"\\udc00\",\"text\":\"x\"}",
        "{\"type\":\"\\ud800\"}",
        "{\"\\ud800\":1,\"type\":\"ping\"}",
        "{\"type\\udfff\":\"ping\"}",
        "{\"type\":\"typing\",\"state\":\"\\ud800\"}",
        "{\"type\":\"sync\",\"conversationId\":\"\\ud800\"}",
    };

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public async Task A_lone_surrogate_anywhere_is_a_bad_frame_and_the_chat_goes_on(string frame)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var conversationId = (await client.SendMessageAsync("before")).Str("conversationId")!;
        var logged = gateway.Logs.Entries.Count;

        await client.SendRawAsync(frame);
        var error = await client.ExpectAsync("error");
        Assert.Equal("bad_frame", error.Str("code"));

        var ack = await client.SendMessageAsync("after", conversationId);
        Assert.Equal(2, ack.Long("seq"));
        await AssertStoredAsync(token, conversationId, "after");
        AssertNoStackTraces(logged);
    }

    public static TheoryData<string, string> WrongValues => new()
    {
        { "{\"type\":5}", "invalid_field" },
        { "{\"type\":\"sync\",\"afterSeq\":1.5}", "invalid_field" },
        { "{\"type\":\"sync\",\"afterSeq\":1e400}", "invalid_field" },
        { "{\"type\":\"read\",\"seq\":123456789012345678901234567890}", "invalid_field" },
        { "{\"type\":\"read\",\"seq\":-123456789012345678901234567890}", "invalid_field" },
        { "{\"type\":\"send\",\"clientMsgId\":[\"c\"],\"text\":\"x\"}", "invalid_field" },
        { "{\"type\":\"send\",\"clientMsgId\":\"c\",\"text\":{\"a\":1}}", "invalid_field" },
        { "{\"type\":\"ping\",\"x\":" + new string('[', 40) + new string(']', 40) + "}", "bad_frame" },
        { "{\"type\":\"send\",\"clientMsgId\":\"c\",\"text\":\"unterminated", "bad_frame" },
        { "{\"type\":\"send\",\"text\":\"\\u12\"}", "bad_frame" },
        { "{\"type\":\"send\",\"text\":\"\\x\"}", "bad_frame" },
        { "", "bad_frame" },
        { "\u0000", "bad_frame" },
    };

    [Theory]
    [MemberData(nameof(WrongValues))]
    public async Task Wrong_types_huge_numbers_and_broken_json_get_an_error_and_the_chat_goes_on(string frame, string code)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var conversationId = (await client.SendMessageAsync("before")).Str("conversationId")!;

        await client.SendRawAsync(frame);
        Assert.Equal(code, (await client.ExpectAsync("error")).Str("code"));
        Assert.Equal(2, (await client.SendMessageAsync("after", conversationId)).Long("seq"));
    }

    [Fact]
    public async Task Invalid_utf8_in_a_text_message_closes_with_1007_as_the_websocket_standard_requires()
    {
        // RFC 6455 §8.1: a text message must be UTF-8; the WebSocket layer fails such a connection with 1007 before
        // any frame is parsed. The client gets the close frame (or, racing it, the runtime's abort) and can reconnect.
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        await client.SendBytesAsync([.. "{\"type\":\"send\",\"clientMsgId\":\"u\",\"text\":\""u8, 0xFF, 0xFE, 0xC3, .. "\"}"u8], WebSocketMessageType.Text);
        try
        {
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await client.ReceiveCloseAsync());
        }
        catch (WebSocketException)
        {
            // The runtime's WebSocket sends its 1007 close frame and then aborts the connection itself; now and then the
            // reset overtakes the close frame on the client's side. Either way the connection is over, not kept open.
        }

        await using var again = await gateway.ConnectAsync(token);
        Assert.Equal(1, (await again.SendMessageAsync("reconnected")).Long("seq"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_json_frames_never_break_the_connection(int seed)
    {
        var random = new Random(seed);
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var conversationId = (await client.SendMessageAsync("before")).Str("conversationId")!;
        var logged = gateway.Logs.Entries.Count;

        for (var i = 0; i < 150; i++)
        {
            var frame = MutateJson(random, JsonTemplates(conversationId)[random.Next(JsonTemplates(conversationId).Length)]);
            await client.SendRawAsync(frame);
            await UntilPongAsync(client, frame);
        }

        var ack = await client.SendMessageAsync("after the fuzz", conversationId, clientMsgId: $"final-{seed}");
        Assert.Equal(conversationId, ack.Str("conversationId"));
        await AssertStoredAsync(token, conversationId, "after the fuzz");
        AssertNoStackTraces(logged);
    }

    public static TheoryData<byte[]> BadBinaryFrames => new()
    {
        // send { client_msg_id: "c1", text: <invalid UTF-8> }
        new byte[] { 0x0A, 0x08, 0x0A, 0x02, 0x63, 0x31, 0x12, 0x02, 0xFF, 0xFE },
        // send { client_msg_id: <a lone surrogate in CESU-8>, text: "x" }
        new byte[] { 0x0A, 0x08, 0x0A, 0x03, 0xED, 0xA0, 0x80, 0x12, 0x01, 0x78 },
        // sync { after_seq: a varint longer than 64 bits }
        new byte[] { 0x1A, 0x0C, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF },
        // read { seq: -1 as a 10-byte varint }
        new byte[] { 0x2A, 0x0B, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 },
        // send given as a varint (wrong wire type for a message field)
        new byte[] { 0x08, 0x01 },
        // send whose length runs past the end
        new byte[] { 0x0A, 0x7F, 0x0A, 0x01, 0x63 },
        // a length of 2^31
        new byte[] { 0x0A, 0x80, 0x80, 0x80, 0x80, 0x08 },
        // typing with a state this server does not know, and a sync with afterSeq = long.MaxValue
        new ClientFrame { Typing = new TypingRequest { State = (TypingState)int.MaxValue } }.ToByteArray(),
        new ClientFrame { Sync = new SyncRequest { AfterSeq = long.MaxValue } }.ToByteArray(),
        new ClientFrame { Read = new ReadRequest { Seq = long.MinValue } }.ToByteArray(),
        // deeply nested unknown groups
        Enumerable.Repeat((byte)0xA3, 200).ToArray(),
    };

    [Theory]
    [MemberData(nameof(BadBinaryFrames))]
    public async Task Nasty_binary_frames_get_an_answer_and_the_chat_goes_on(byte[] frame)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);
        var conversationId = await SendBinAsync(client, "before", "b0");
        var logged = gateway.Logs.Entries.Count;

        await client.SendBytesAsync(frame, WebSocketMessageType.Binary);
        await UntilPongAsync(client);

        await SendBinAsync(client, "after", "b1");
        await AssertStoredAsync(token, conversationId, "after");
        AssertNoStackTraces(logged);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_binary_frames_never_break_the_connection(int seed)
    {
        var random = new Random(seed);
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);
        var conversationId = await SendBinAsync(client, "before", "b0");
        var templates = BinaryTemplates(conversationId);
        var logged = gateway.Logs.Entries.Count;

        for (var i = 0; i < 150; i++)
        {
            var frame = MutateBytes(random, templates[random.Next(templates.Length)]);
            await client.SendBytesAsync(frame, WebSocketMessageType.Binary);
            await UntilPongAsync(client);
        }

        Assert.Equal(conversationId, await SendBinAsync(client, "after the fuzz", $"final-{seed}"));
        await AssertStoredAsync(token, conversationId, "after the fuzz");
        AssertNoStackTraces(logged);
    }

    private static string[] JsonTemplates(string conversationId) =>
    [
        "{\"type\":\"send\",\"clientMsgId\":\"m1\",\"text\":\"hello 你好 😀\"}",
        $"{{\"type\":\"send\",\"clientMsgId\":\"m2\",\"text\":\"hi\",\"conversationId\":\"{conversationId}\"}}",
        $"{{\"type\":\"sync\",\"conversationId\":\"{conversationId}\",\"afterSeq\":0}}",
        "{\"type\":\"typing\",\"state\":\"on\"}",
        "{\"type\":\"read\",\"seq\":1}",
        "{\"type\":\"ping\"}",
        "{\"type\":\"status\",\"state\":\"away\"}",
    ];

    private static readonly string[] JsonPieces =
    [
        "\\ud800", "\\udfff", "\\ud83d", "\\u0000", "\\", "\"", "{", "}", "[", "]", ":", ",", "null", "true", "1e999",
        "-0", "99999999999999999999", "😀", "\u00e9", "\t", "\\n", "\\u12", "\uFFFD", "\"type\"", "\"afterSeq\":",
    ];

    /// <summary>A template with a few random edits: pieces inserted, characters deleted or replaced, or cut short.</summary>
    private static string MutateJson(Random random, string template)
    {
        var text = new StringBuilder(template);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && text.Length > 0; e++)
        {
            var at = random.Next(text.Length);
            switch (random.Next(4))
            {
                case 0: text.Insert(at, JsonPieces[random.Next(JsonPieces.Length)]); break;
                case 1: text.Remove(at, Math.Min(text.Length - at, random.Next(1, 4))); break;
                case 2: text[at] = (char)random.Next(0x20, 0x7F); break;
                default: text.Length = at; break;
            }
        }

        return text.ToString();
    }

    private static byte[][] BinaryTemplates(string conversationId)
    {
        var id = ByteString.CopyFrom(Ulid.Parse(conversationId).ToByteArray());
        return
        [
            new ClientFrame { Send = new SendRequest { ClientMsgId = "m1", Text = "hello 你好 😀" } }.ToByteArray(),
            new ClientFrame { Send = new SendRequest { ClientMsgId = "m2", Text = "hi", ConversationId = id } }.ToByteArray(),
            new ClientFrame { Sync = new SyncRequest { ConversationId = id, AfterSeq = 0 } }.ToByteArray(),
            new ClientFrame { Typing = new TypingRequest { State = TypingState.On } }.ToByteArray(),
            new ClientFrame { Read = new ReadRequest { Seq = 1 } }.ToByteArray(),
            new ClientFrame { Ping = new PingRequest() }.ToByteArray(),
            new ClientFrame { Status = new StatusRequest { State = AgentStatus.Away } }.ToByteArray(),
        ];
    }

    /// <summary>Random bytes flipped, inserted or dropped, or the frame cut short, or garbage.</summary>
    private static byte[] MutateBytes(Random random, byte[] template)
    {
        var bytes = new List<byte>(template);
        switch (random.Next(5))
        {
            case 0:
                return [.. template.Take(random.Next(template.Length))];
            case 1:
                var garbage = new byte[random.Next(1, 64)];
                random.NextBytes(garbage);
                return garbage;
            default:
                var edits = random.Next(1, 4);
                for (var e = 0; e < edits && bytes.Count > 0; e++)
                {
                    var at = random.Next(bytes.Count);
                    switch (random.Next(3))
                    {
                        case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                        case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                        default: bytes.RemoveAt(at); break;
                    }
                }

                return [.. bytes];
        }
    }

    /// <summary>Pings and reads up to the pong: the connection is alive and everything before it was answered.</summary>
    private static async Task UntilPongAsync(ChatClient client, string sent)
    {
        await client.SendAsync(new { type = "ping" });
        try
        {
            await client.ReceiveUntilAsync("pong");
        }
        catch (Exception ex) when (ex is WebSocketClosedException or WebSocketException)
        {
            Assert.Fail($"The connection ended after the frame {JsonSerializer.Serialize(sent)}: {ex.Message}");
        }
    }

    private static async Task UntilPongAsync(BinChatClient client)
    {
        await client.SendAsync(new ClientFrame { Ping = new PingRequest() });
        await client.ReceiveUntilAsync(Case.Pong);
    }

    private static async Task<string> SendBinAsync(BinChatClient client, string text, string clientMsgId)
    {
        await client.SendAsync(new ClientFrame { Send = new SendRequest { ClientMsgId = clientMsgId, Text = text } });
        var ack = (await client.ReceiveUntilAsync(Case.Ack, f => f.Ack.ClientMsgId == clientMsgId))[^1].Ack;
        return new Ulid(ack.ConversationId.ToByteArray()).ToString();
    }

    private async Task AssertStoredAsync(string token, string conversationId, string text)
    {
        using var http = gateway.Http(token);
        var page = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages?limit=500");
        Assert.Contains(page.GetProperty("messages").EnumerateArray(), m => m.Str("text") == text);
    }

    /// <summary>A bad frame is the client's problem: no stack trace (at most one plain line) in the server's log.</summary>
    private void AssertNoStackTraces(int from)
    {
        var traces = gateway.Logs.Entries.Skip(from).Where(e => e.Exception is not null && e.Level >= LogLevel.Warning).ToList();
        Assert.True(traces.Count == 0, string.Join("\n", traces));
    }
}
