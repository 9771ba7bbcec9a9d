using Kefu.Contracts.Messages;
using Kefu.Gateway.WebSockets;
using Xunit.Abstractions;

namespace Kefu.Gateway.Tests;

/// <summary>
/// How much smaller kefu.v1.bin is than kefu.v1.json on a realistic mix of server frames (the issue's target: at least
/// 40% smaller). Prints the totals per frame kind.
/// </summary>
public sealed class FrameSizeTests(ITestOutputHelper output)
{
    private static readonly string[] Texts =
    [
        "Hi, I ordered a pair of running shoes last week, any update?",
        "Sure, let me check the shipping status for you right away now.",
        "The parcel left our warehouse yesterday and should arrive soon.",
        "Can I change the delivery address to my office instead, please?",
        "Of course. Please send me the new address and a contact number.",
        "Thanks! Also, is there a discount code for my next purchase too?",
        "我上周买的鞋子还没有收到，请帮我查一下物流状态，谢谢你们的帮助。",
        "您好，您的包裹已经发出，预计明天下午送达，请保持电话畅通。",
        "Great, thank you so much for your quick help today! 😊",
        "You're welcome. Is there anything else I can help you with today?",
    ];

    private static readonly (string Name, ParticipantRole Role)[] Agents =
    [
        ("Bob Miller", ParticipantRole.Agent),
        ("李娜", ParticipantRole.Agent),
        ("Sophie Laurent", ParticipantRole.Agent),
    ];

    private static readonly string[] AgentIds = ["bob.miller", "li.na", "sophie_l"];

    private static readonly string?[] VisitorNames = ["Ana García", "王小明", null, "John Smith", "Priya Patel"];

    [Fact]
    public void Bin_is_at_least_40_percent_smaller_than_json_on_a_realistic_mix()
    {
        var random = new Random(20261127);
        var json = new long[5];
        var bin = new long[5];
        var counts = new int[5];
        string[] kinds = ["message", "ack", "typing", "read", "conversation"];
        var time = new DateTimeOffset(2026, 11, 26, 23, 37, 6, TimeSpan.Zero).AddTicks(9946429);

        for (var i = 0; i < 10_000; i++)
        {
            time = time.AddTicks(random.NextInt64(1, 50_000_000));
            var conversationId = NewUlid(time.AddMinutes(-random.Next(1, 600)), random).ToString();
            var visitor = new Sender(ParticipantRole.Visitor, NewUlid(time.AddDays(-random.Next(1, 30)), random).ToString(), VisitorNames[random.Next(VisitorNames.Length)]);
            var agentIndex = random.Next(Agents.Length);
            var agent = new Sender(ParticipantRole.Agent, AgentIds[agentIndex], Agents[agentIndex].Name);
            var sender = random.Next(2) == 0 ? visitor : agent;
            var seq = random.Next(1, 300);
            var clientMsgId = Guid.NewGuid().ToString(); // as a browser's crypto.randomUUID()
            var roll = random.Next(100);
            var kind = roll < 45 ? 0 : roll < 90 ? 1 : roll < 95 ? 2 : roll < 98 ? 3 : 4;

            byte[] j, b;
            switch (kind)
            {
                case 0:
                    var message = new ChatMessage(conversationId, NewUlid(time, random), seq, sender, Texts[random.Next(Texts.Length)], time, clientMsgId);
                    var pushed = new MessageEvent(message);
                    (j, b) = (FrameWriter.Event(pushed), ProtobufFrameWriter.Event(pushed));
                    break;
                case 1:
                    var ack = new SendAck(clientMsgId, conversationId, NewUlid(time, random), seq, time);
                    (j, b) = (FrameWriter.Ack(ack), ProtobufFrameWriter.Ack(ack));
                    break;
                case 2:
                    var typing = new TypingEvent(conversationId, sender, random.Next(2) == 0);
                    (j, b) = (FrameWriter.Event(typing), ProtobufFrameWriter.Event(typing));
                    break;
                case 3:
                    var read = new ReadEvent(conversationId, sender, seq);
                    (j, b) = (FrameWriter.Event(read), ProtobufFrameWriter.Event(read));
                    break;
                default:
                    var summary = new ConversationSummary(conversationId, "default", "default", visitor.Id, visitor.Name,
                        ConversationStatus.Open, random.Next(3) == 0 ? null : agent.Id, seq, time.AddMinutes(-30), [agent.Id]);
                    var changed = new ConversationEvent(summary);
                    (j, b) = (FrameWriter.Event(changed), ProtobufFrameWriter.Event(changed));
                    break;
            }

            json[kind] += j.Length;
            bin[kind] += b.Length;
            counts[kind]++;
        }

        output.WriteLine($"{"frame",-13} {"count",6} {"json B",10} {"bin B",10} {"bin/json",9}");
        for (var k = 0; k < kinds.Length; k++)
        {
            output.WriteLine($"{kinds[k],-13} {counts[k],6} {json[k],10} {bin[k],10} {(double)bin[k] / json[k],9:P1}");
        }

        var totalJson = json.Sum();
        var totalBin = bin.Sum();
        var ratio = (double)totalBin / totalJson;
        output.WriteLine($"{"total",-13} {counts.Sum(),6} {totalJson,10} {totalBin,10} {ratio,9:P1}");
        output.WriteLine($"kefu.v1.bin is {1 - ratio:P1} smaller than kefu.v1.json on this mix " +
            $"(avg {(double)totalJson / counts.Sum():F1} B → {(double)totalBin / counts.Sum():F1} B per frame).");
        Assert.True(ratio <= 0.60, $"bin/json = {ratio:P1}; the target is at least 40% smaller.");
    }

    [Fact]
    public void Ulids_are_their_16_big_endian_bytes_and_times_unix_microseconds()
    {
        var ulid = Ulid.Parse("01M8D3GK5J8RM47EH8M0Q0P0RB");
        var bytes = ProtoValues.Ulid(ulid).ToByteArray();
        Assert.Equal(16, bytes.Length);
        var milliseconds = 0L;
        for (var i = 0; i < 6; i++)
        {
            milliseconds = (milliseconds << 8) | bytes[i];
        }

        Assert.Equal(ulid.Time.ToUnixTimeMilliseconds(), milliseconds);
        Assert.True(ProtoValues.TryReadUlid(ProtoValues.Ulid(ulid), out var text));
        Assert.Equal("01M8D3GK5J8RM47EH8M0Q0P0RB", text);

        var ts = DateTimeOffset.Parse("2026-11-26T23:37:06.9946429Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(1_795_736_226_994_642L, ProtoValues.UnixMicroseconds(ts));
        Assert.Equal(ts.AddTicks(-9), ProtoValues.FromUnixMicroseconds(ProtoValues.UnixMicroseconds(ts)));
    }

    [Fact]
    public void The_documented_example_encodes_as_documented()
    {
        var send = new Kefu.Contracts.Protocol.ClientFrame
        {
            Send = new Kefu.Contracts.Protocol.SendRequest { ClientMsgId = "c1", Text = "Hello 你好" },
        };
        Assert.Equal("0a120a026331120c48656c6c6f20e4bda0e5a5bd", Convert.ToHexStringLower(Google.Protobuf.MessageExtensions.ToByteArray(send)));

        var ts = DateTimeOffset.Parse("2026-11-26T23:37:06.9946429Z", System.Globalization.CultureInfo.InvariantCulture);
        var ack = new SendAck("c1", "01M8D3GK415W2ADS6CA5N22P15", Ulid.Parse("01M8D3GK5J8RM47EH8M0Q0P0RB"), 1, ts);
        Assert.Equal(53, ProtobufFrameWriter.Ack(ack).Length);
        Assert.Equal(164, FrameWriter.Ack(ack).Length);

        var decoded = Kefu.Contracts.Protocol.ServerFrame.Parser.ParseFrom(ProtobufFrameWriter.Ack(ack)).Ack;
        Assert.Equal(1_795_736_226_994_642L, decoded.Ts);
        Assert.True(ProtoValues.TryReadUlid(decoded.ConversationId, out var conversationId));
        Assert.Equal("01M8D3GK415W2ADS6CA5N22P15", conversationId);
    }

    /// <summary>A real ULID for the given time (random part from the test's seeded generator).</summary>
    private static Ulid NewUlid(DateTimeOffset time, Random random)
    {
        Span<byte> randomness = stackalloc byte[10];
        random.NextBytes(randomness);
        return Ulid.NewUlid(time, randomness);
    }
}
