using System.Net;
using System.Net.WebSockets;
using Google.Protobuf;
using Kefu.Contracts.Protocol;
using Kefu.Gateway.Tests.Infrastructure;
using Case = Kefu.Contracts.Protocol.ServerFrame.FrameOneofCase;

namespace Kefu.Gateway.Tests;

/// <summary>kefu.v1.bin: the same protocol as kefu.v1.json, in protobuf binary frames, mixed freely with JSON clients.</summary>
[Collection(GatewayCollection.Name)]
public sealed class BinaryProtocolTests(GatewayFixture gateway)
{
    [Fact]
    public async Task A_visitor_on_bin_and_an_agent_on_json_chat_both_ways_and_resume_without_gaps()
    {
        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync("Ana 安娜");
        var (agentId, agentToken) = await gateway.CreateAgentAsync();
        var visitor = await BinChatClient.ConnectAsync(gateway.WebSocketUri, visitorToken);
        try
        {
            Assert.Equal(BinChatClient.Subprotocol, visitor.Socket.SubProtocol);

            // Visitor (bin) → agent (json).
            var before = DateTimeOffset.UtcNow;
            var first = await visitor.SendMessageAsync("Hello 你好, where is my order? 📦", clientMsgId: "v1");
            Assert.Equal(1, first.Seq);
            Assert.Equal("v1", first.ClientMsgId);
            var conversationId = Ids.Text(first.ConversationId);
            var firstId = Ids.Text(first.MessageId);
            AssertAbout(before, first.Ts);

            await using var agent = await gateway.ConnectAsync(agentToken);
            await agent.SendAsync(new { type = "join", conversationId });
            Assert.Equal(1, (await agent.ExpectAsync("joined")).Long("lastSeq"));
            await agent.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
            var history = await agent.ExpectAsync("message");
            Assert.Equal(firstId, history.Str("messageId"));
            Assert.Equal("Hello 你好, where is my order? 📦", history.Str("text"));
            Assert.Equal("visitor", history.GetProperty("sender").Str("role"));
            Assert.Equal(visitorId, history.GetProperty("sender").Str("id"));
            Assert.Equal("Ana 安娜", history.GetProperty("sender").Str("name"));
            Assert.Equal(first.Ts, Microseconds(history.GetProperty("ts").GetDateTimeOffset()));
            Assert.Equal(1, (await agent.ExpectAsync("synced")).Long("lastSeq"));

            // Agent (json) → visitor (bin).
            var reply = await agent.SendMessageAsync("Hi Ana 👋, 我来查一下 — one moment 🚀", conversationId, "a1");
            Assert.Equal(2, reply.Long("seq"));
            var pushed = (await visitor.ExpectAsync(Case.Message)).Message;
            Assert.Equal(conversationId, Ids.Text(pushed.ConversationId));
            Assert.Equal(reply.Str("messageId"), Ids.Text(pushed.MessageId));
            Assert.Equal(2, pushed.Seq);
            Assert.Equal("Hi Ana 👋, 我来查一下 — one moment 🚀", pushed.Text);
            Assert.Equal(SenderRole.Agent, pushed.Sender.Role);
            Assert.Equal(agentId, pushed.Sender.TextId);
            Assert.Equal("Agent " + agentId, pushed.Sender.Name);
            Assert.Equal("a1", pushed.ClientMsgId);
            Assert.Equal(Microseconds(reply.GetProperty("ts").GetDateTimeOffset()), pushed.Ts);

            // Visitor again, without naming the conversation; the agent gets it live.
            var third = await visitor.SendMessageAsync("谢谢! Thanks 🙏");
            Assert.Equal(3, third.Seq);
            var live = await agent.ExpectAsync("message");
            Assert.Equal(3, live.Long("seq"));
            Assert.Equal(Ids.Text(third.MessageId), live.Str("messageId"));
            Assert.Equal("谢谢! Thanks 🙏", live.Str("text"));
            Assert.Equal(Ids.Text(third.ConversationId), live.Str("conversationId"));

            // An admin on bin joins too (the assignee stays the first agent): joined in binary.
            await using (var agent2 = await BinChatClient.ConnectAsync(gateway.WebSocketUri, await gateway.LoginAsync()))
            {
                await agent2.SendAsync(new ClientFrame { Join = new JoinRequest { ConversationId = Ids.Bytes(conversationId) } });
                var joined = (await agent2.ExpectAsync(Case.Joined)).Joined;
                Assert.Equal(conversationId, Ids.Text(joined.ConversationId));
                Assert.Equal(3, joined.LastSeq);
            }

            // The visitor drops; the agent sends 4 and 5 meanwhile.
            await visitor.DisposeAsync();
            var missed4 = await agent.SendMessageAsync("It ships today. 今天发货。", conversationId, "a2");
            var missed5 = await agent.SendMessageAsync("Tracking: 1Z999AA10123456784 ✅", conversationId, "a3");
            Assert.Equal(4, missed4.Long("seq"));
            Assert.Equal(5, missed5.Long("seq"));

            // Reconnect on bin and resume from seq 3: exactly 4, 5, then synced, then live from 6.
            visitor = await BinChatClient.ConnectAsync(gateway.WebSocketUri, visitorToken);
            await visitor.SendAsync(new ClientFrame { Sync = new SyncRequest { AfterSeq = 3 } });
            var resumed = await visitor.ReceiveUntilAsync(Case.Synced);
            var messages = resumed.Where(f => f.FrameCase == Case.Message).Select(f => f.Message).ToList();
            Assert.Equal([4L, 5L], messages.Select(m => m.Seq));
            Assert.Equal(missed4.Str("messageId"), Ids.Text(messages[0].MessageId));
            Assert.Equal("It ships today. 今天发货。", messages[0].Text);
            Assert.Equal(missed5.Str("messageId"), Ids.Text(messages[1].MessageId));
            var synced = resumed[^1].Synced;
            Assert.Equal(conversationId, Ids.Text(synced.ConversationId));
            Assert.Equal(5, synced.LastSeq);

            var sixth = await agent.SendMessageAsync("Anything else?", conversationId, "a4");
            var next = (await visitor.ExpectAsync(Case.Message)).Message;
            Assert.Equal(6, next.Seq);
            Assert.Equal(sixth.Str("messageId"), Ids.Text(next.MessageId));
        }
        finally
        {
            await visitor.DisposeAsync();
        }
    }

    [Fact]
    public async Task Typing_read_and_ping_work_over_bin()
    {
        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync("Bo");
        var (agentId, agentToken) = await gateway.CreateAgentAsync();
        await using var visitor = await BinChatClient.ConnectAsync(gateway.WebSocketUri, visitorToken);
        await using var agent = await BinChatClient.ConnectAsync(gateway.WebSocketUri, agentToken);

        var ack = await visitor.SendMessageAsync("hi");
        await agent.SendAsync(new ClientFrame { Join = new JoinRequest { ConversationId = ack.ConversationId } });
        await agent.ExpectAsync(Case.Joined);

        await agent.SendAsync(new ClientFrame { Typing = new TypingRequest { ConversationId = ack.ConversationId, State = TypingState.On } });
        var typing = (await visitor.ExpectAsync(Case.Typing)).Typing;
        Assert.Equal(ack.ConversationId, typing.ConversationId);
        Assert.Equal(TypingState.On, typing.State);
        Assert.Equal(SenderRole.Agent, typing.Sender.Role);
        Assert.Equal(agentId, typing.Sender.TextId);

        await agent.SendAsync(new ClientFrame { Typing = new TypingRequest { ConversationId = ack.ConversationId, State = TypingState.Off } });
        Assert.Equal(TypingState.Off, (await visitor.ExpectAsync(Case.Typing)).Typing.State);

        await visitor.SendAsync(new ClientFrame { Read = new ReadRequest { Seq = 1 } });
        var read = (await agent.ExpectAsync(Case.Read)).Read;
        Assert.Equal(ack.ConversationId, read.ConversationId);
        Assert.Equal(1, read.Seq);
        Assert.Equal(SenderRole.Visitor, read.Reader.Role);
        Assert.Equal(visitorId, Ids.Text(read.Reader.Ulid));
        Assert.Equal("Bo", read.Reader.Name);

        await visitor.SendAsync(new ClientFrame { Ping = new PingRequest() });
        await visitor.ExpectAsync(Case.Pong);
        await agent.SendAsync(new ClientFrame { Ping = new PingRequest() });
        await agent.ExpectAsync(Case.Pong);

        // Field rules are those of JSON: a missing state or seq is missing_field.
        await agent.SendAsync(new ClientFrame { Typing = new TypingRequest { ConversationId = ack.ConversationId } });
        Assert.Equal("missing_field", (await agent.ExpectAsync(Case.Error)).Error.Code);
        await agent.SendAsync(new ClientFrame { Read = new ReadRequest { ConversationId = ack.ConversationId } });
        Assert.Equal("missing_field", (await agent.ExpectAsync(Case.Error)).Error.Code);
    }

    public static TheoryData<byte[], string> BadFrames => new()
    {
        { [0x0A, 0x05, 0x01], "bad_frame" },                                                  // truncated length-delimited field
        { [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], "bad_frame" },  // malformed varint tag
        { [0x0F], "bad_frame" },                                                              // invalid wire type
        { [], "missing_field" },                                                              // no case set
        { [0xA0, 0x06, 0x01], "unknown_type" },                                               // field 100: a case from a newer schema
        { new ClientFrame { Join = new JoinRequest { ConversationId = ByteString.CopyFrom(1, 2, 3) } }.ToByteArray(), "invalid_field" },
        { new ClientFrame { Send = new SendRequest { Text = "no id" } }.ToByteArray(), "missing_field" },
        { new ClientFrame { Send = new SendRequest { ClientMsgId = "c1" } }.ToByteArray(), "missing_field" },
        { new ClientFrame { Send = new SendRequest { ClientMsgId = "c1", Text = "   " } }.ToByteArray(), "invalid_field" },
        { new ClientFrame { Sync = new SyncRequest { AfterSeq = -1 } }.ToByteArray(), "invalid_field" },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task Bad_binary_frames_get_an_error_and_the_connection_stays_open(byte[] frame, string code)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);
        await client.SendBytesAsync(frame, WebSocketMessageType.Binary);
        var error = (await client.ExpectAsync(Case.Error)).Error;
        Assert.Equal(code, error.Code);
        Assert.False(string.IsNullOrEmpty(error.Message));

        await client.SendAsync(new ClientFrame { Ping = new PingRequest() });
        await client.ExpectAsync(Case.Pong);
    }

    [Fact]
    public async Task A_text_frame_on_bin_closes_with_1003()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);
        await client.SendBytesAsync("{\"type\":\"ping\"}"u8.ToArray(), WebSocketMessageType.Text);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await client.ReceiveCloseAsync());
    }

    [Theory]
    [InlineData(new[] { "kefu.v1.bin" }, "kefu.v1.bin")]
    [InlineData(new[] { "kefu.v1.bin", "kefu.v1.json" }, "kefu.v1.bin")]
    [InlineData(new[] { "kefu.v1.json", "kefu.v1.bin" }, "kefu.v1.json")]
    [InlineData(new[] { "chat.v9", "kefu.v1.bin" }, "kefu.v1.bin")]
    public async Task The_first_supported_subprotocol_the_client_lists_is_chosen(string[] offered, string chosen)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token, offered);
        Assert.Equal(chosen, client.Socket.SubProtocol);

        // And the connection speaks it.
        if (chosen == BinChatClient.Subprotocol)
        {
            await client.SendAsync(new ClientFrame { Ping = new PingRequest() });
            await client.ExpectAsync(Case.Pong);
        }
        else
        {
            await client.SendBytesAsync("{\"type\":\"ping\"}"u8.ToArray(), WebSocketMessageType.Text);
            using var cts = new CancellationTokenSource(ChatClient.Timeout);
            var buffer = new byte[1024];
            var result = await client.Socket.ReceiveAsync(buffer, cts.Token);
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            Assert.Equal("{\"type\":\"pong\"}", System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }

    [Theory]
    [InlineData("kefu.v2.bin")]
    [InlineData("kefu.v1.protobuf", "chat.v9")]
    public async Task Only_unknown_subprotocols_are_still_refused(params string[] offered)
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var subprotocol in offered)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }

        await Assert.ThrowsAnyAsync<WebSocketException>(() =>
            socket.ConnectAsync(new Uri($"{gateway.WebSocketUri}?access_token={token}"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    private static long Microseconds(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;

    private static void AssertAbout(DateTimeOffset before, long ts)
    {
        var now = Microseconds(DateTimeOffset.UtcNow);
        Assert.InRange(ts, Microseconds(before) - 60_000_000, now + 60_000_000);
    }
}
