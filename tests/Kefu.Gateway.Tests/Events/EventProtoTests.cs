using System.Buffers;
using System.Text.Json;
using Google.Protobuf;
using Kefu.Contracts.Events;
using Kefu.Contracts.Protocol;

namespace Kefu.Gateway.Tests.Events;

/// <summary>The protobuf EventEnvelope carries what the JSON envelope carries.</summary>
public sealed class EventProtoTests
{
    [Fact]
    public void The_protobuf_envelope_matches_the_json_envelope_field_for_field()
    {
        var conversation = Ulid.NewUlid();
        var stored = new StoredEvent(0x1f, Ulid.NewUlid(), EventTypes.ConversationStatusChanged, "default", conversation.ToString(), 12,
            new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(1_234_567), new Causation(Causation.Agent, "alice", "Alice"),
            """{"from":"open","to":"resolved"}""");
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            EventJson.WriteEnvelope(writer, stored);
        }

        var json = JsonDocument.Parse(buffer.WrittenMemory).RootElement;
        var proto = EventEnvelope.Parser.ParseFrom(EventProto.ToProto(stored).ToByteArray());

        Assert.Equal(json.GetProperty("id").GetString(), new Ulid(proto.Id.ToByteArray()).ToString());
        Assert.Equal(json.GetProperty("type").GetString(), proto.Type);
        Assert.Equal(json.GetProperty("tenant").GetString(), proto.Tenant);
        Assert.Equal(json.GetProperty("cursor").GetString(), proto.Cursor);
        Assert.Equal("000000000000001f", proto.Cursor);
        var jsonTime = DateTimeOffset.Parse(json.GetProperty("time").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal((jsonTime.UtcTicks - DateTime.UnixEpoch.Ticks) / 10, proto.Time);
        Assert.Equal(1_796_119_200_123_456, proto.Time);
        Assert.Equal(json.GetProperty("conversationId").GetString(), new Ulid(proto.ConversationId.ToByteArray()).ToString());
        Assert.Equal(json.GetProperty("seq").GetInt64(), proto.Seq);
        Assert.Equal(("agent", "alice", "Alice"), (proto.Causation.Kind, proto.Causation.Id, proto.Causation.Name));
        Assert.Equal(json.GetProperty("data").GetRawText(), proto.DataJson);

        var contact = EventProto.ToProto(stored with { ConversationId = null, Causation = Causation.Of("crm") });
        Assert.True(contact.ConversationId.IsEmpty);
        Assert.Equal(0, contact.Seq);
        Assert.False(contact.Causation.HasName);
    }
}
