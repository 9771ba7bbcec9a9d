using System.Net.WebSockets;
using Kefu.Contracts.Protocol;
using Kefu.Gateway.Tests.Infrastructure;
using Case = Kefu.Contracts.Protocol.ServerFrame.FrameOneofCase;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// The frame budget is consulted before a frame is parsed; of a refused frame only its clientMsgId is picked out, so
/// the client still learns which message to retry (docs/protocol.md §8).
/// </summary>
[Collection(StrictGatewayCollection.Name)]
public sealed class RateLimitBeforeParseTests(StrictGatewayFixture gateway)
{
    [Fact]
    public async Task Refused_json_frames_name_their_message_and_refused_garbage_is_just_refused()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await gateway.ConnectAsync(token);
        var ids = Enumerable.Range(0, 25).Select(i => $"r{i}").ToList();
        foreach (var id in ids)
        {
            await client.SendAsync(new { type = "send", clientMsgId = id, text = $"text {id}" });
        }

        // Unreadable frames while the bucket is empty: refused (rate_limited, no ref), never parsed.
        for (var i = 0; i < 5; i++)
        {
            await client.SendRawAsync("{\"type\":\"send\",\"clientMsgId\":\"\\ud800\",\"text\":\"x\"}");
        }

        var answered = new Dictionary<string, string>();
        var unnamed = 0;
        while (answered.Count < ids.Count || unnamed < 5)
        {
            var frame = await client.ReceiveAsync();
            if (frame.Type() == "ack")
            {
                answered[frame.Str("clientMsgId")!] = "ack";
            }
            else if (frame.Type() == "error" && frame.Str("ref") is { } reference)
            {
                Assert.Equal("rate_limited", frame.Str("code"));
                answered[reference] = "rate_limited";
            }
            else if (frame.Type() == "error")
            {
                // Refused unread, or (on a machine slow enough to refill the bucket meanwhile) read and refused.
                Assert.Contains(frame.Str("code"), new[] { "rate_limited", "bad_frame" });
                unnamed++;
            }
        }

        Assert.Equal(ids.Order(), answered.Keys.Order());
        Assert.Contains("rate_limited", answered.Values);
        Assert.Equal(5, unnamed);
    }

    [Fact]
    public async Task Refused_binary_frames_name_their_message()
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var client = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);
        var ids = Enumerable.Range(0, 25).Select(i => $"b{i}").ToList();
        foreach (var id in ids)
        {
            await client.SendAsync(new ClientFrame { Send = new SendRequest { ClientMsgId = id, Text = $"text {id}" } });
        }

        var answered = new Dictionary<string, string>();
        while (answered.Count < ids.Count)
        {
            var frame = await client.ReceiveAsync();
            if (frame.FrameCase == Case.Ack)
            {
                answered[frame.Ack.ClientMsgId] = "ack";
            }
            else if (frame.FrameCase == Case.Error)
            {
                Assert.Equal("rate_limited", frame.Error.Code);
                Assert.True(frame.Error.HasRef);
                answered[frame.Error.Ref] = "rate_limited";
            }
        }

        Assert.Equal(ids.Order(), answered.Keys.Order());
        Assert.Contains("rate_limited", answered.Values);
        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    [Theory]
    [InlineData("{\"type\":\"send\",\"clientMsgId\":\"c1\",\"text\":\"x\"}", "c1")]
    [InlineData("{\"text\":{\"clientMsgId\":\"inner\"},\"clientMsgId\":\"outer\"}", "outer")]
    [InlineData("{\"clientMsgId\":42}", null)]
    [InlineData("{\"clientMsgId\":\"\\ud800\"}", null)]
    [InlineData("[\"clientMsgId\"]", null)]
    [InlineData("{\"type\":\"send\",", null)]
    public void The_peek_reads_only_a_top_level_clientMsgId_of_json(string frame, string? expected) =>
        Assert.Equal(expected, Kefu.Gateway.WebSockets.ClientFrame.PeekClientMsgId(System.Text.Encoding.UTF8.GetBytes(frame), Kefu.Gateway.WebSockets.FrameEncoding.Json));

    [Fact]
    public void The_peek_reads_the_clientMsgId_of_a_binary_send_and_survives_garbage()
    {
        var send = new ClientFrame { Send = new SendRequest { ClientMsgId = "p1", Text = "hello" } };
        Assert.Equal("p1", Kefu.Gateway.WebSockets.ClientFrame.PeekClientMsgId(Google.Protobuf.MessageExtensions.ToByteArray(send), Kefu.Gateway.WebSockets.FrameEncoding.Binary));
        Assert.Null(Kefu.Gateway.WebSockets.ClientFrame.PeekClientMsgId([0x0A, 0x7F, 0x0A], Kefu.Gateway.WebSockets.FrameEncoding.Binary));
        Assert.Null(Kefu.Gateway.WebSockets.ClientFrame.PeekClientMsgId([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], Kefu.Gateway.WebSockets.FrameEncoding.Binary));
        Assert.Null(Kefu.Gateway.WebSockets.ClientFrame.PeekClientMsgId([], Kefu.Gateway.WebSockets.FrameEncoding.Binary));
    }
}
