using System.Text.Json;
using Google.Protobuf;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Inbound;
using Proto = Kefu.Contracts.Integration;

namespace Kefu.Grains.Tests.Inbound;

/// <summary>One body, three transports: the JSON and protobuf forms are checked alike and hash alike.</summary>
public sealed class InboundParserTests
{
    private static readonly Ulid Conversation = Ulid.Parse("01JB0000000000000000000000");

    [Fact]
    public void The_same_event_as_json_and_as_protobuf_is_the_same_body()
    {
        var json = Json("""{"id":"erp-1","type":"order_status","contact":{"externalId":"u-42","name":"Li Lei"},"data":{"order_id":"12345","status":"shipped"}}""");
        var proto = Parse(new Proto.InboundEvent
        {
            Id = "erp-1",
            Type = "order_status",
            Contact = new Proto.InboundContact { ExternalId = "u-42", Name = "Li Lei" },
            DataJson = """{ "order_id": "12345", "status": "shipped" }""",
        });

        Assert.Equal(json, proto);
        Assert.Equal("""{"order_id":"12345","status":"shipped"}""", json.DataJson);
        Assert.Equal("u-42", json.ExternalId);
    }

    [Fact]
    public void Whitespace_member_order_and_unknown_members_do_not_change_the_hash_but_any_value_does()
    {
        var a = Json("""{"id":"erp-2","type":"t","data":{"a":1}}""");
        var reordered = Json("""{ "data": {"a":1}, "extra": true, "type": "t", "id": "erp-2" }""");
        var otherData = Json("""{"id":"erp-2","type":"t","data":{"a":2}}""");
        var otherType = Json("""{"id":"erp-2","type":"u","data":{"a":1}}""");

        Assert.Equal(a.BodyHash, reordered.BodyHash);
        Assert.NotEqual(a.BodyHash, otherData.BodyHash);
        Assert.NotEqual(a.BodyHash, otherType.BodyHash);
    }

    [Fact]
    public void A_conversation_id_is_16_bytes_in_protobuf_and_text_in_json()
    {
        var json = Json($$"""{"id":"erp-3","type":"t","conversationId":"{{Conversation}}"}""");
        var proto = Parse(new Proto.InboundEvent { Id = "erp-3", Type = "t", ConversationId = ByteString.CopyFrom(Conversation.ToByteArray()) });

        Assert.Equal(Conversation.ToString(), proto.ConversationId);
        Assert.Equal(json.BodyHash, proto.BodyHash);
        Assert.Equal("{}", proto.DataJson);
    }

    [Theory]
    [InlineData("""{"type":"t"}""", ErrorCodes.MissingField)]
    [InlineData("""{"id":"","type":"t"}""", ErrorCodes.InvalidField)]
    [InlineData("""{"id":"x","type":"t","data":[1]}""", ErrorCodes.InvalidField)]
    [InlineData("""{"id":"x","type":"t","conversationId":"01JB0000000000000000000000","contact":{"externalId":"u"}}""", ErrorCodes.InvalidField)]
    [InlineData("""{"id":"x","type":"t","conversationId":"not-a-ulid"}""", ErrorCodes.NotFound)]
    [InlineData("""{"id":"x","type":"t","inbox":"no spaces allowed"}""", ErrorCodes.InvalidField)]
    [InlineData("""[1]""", ErrorCodes.InvalidField)]
    public void Bad_json_bodies_get_their_code(string body, string code)
    {
        using var document = JsonDocument.Parse(body);
        var (inbound, error) = InboundParser.Parse(document.RootElement, null);

        Assert.Null(inbound);
        Assert.Equal(code, error!.Code);
    }

    [Fact]
    public void Bad_protobuf_bodies_get_their_code()
    {
        Assert.Equal(ErrorCodes.MissingField, Error(null));
        Assert.Equal(ErrorCodes.MissingField, Error(new Proto.InboundEvent { Type = "t" }));
        Assert.Equal(ErrorCodes.InvalidField, Error(new Proto.InboundEvent { Id = "x", Type = "t", ConversationId = ByteString.CopyFrom(1, 2, 3) }));
        Assert.Equal(ErrorCodes.InvalidField, Error(new Proto.InboundEvent { Id = "x", Type = "t", DataJson = "[1]" }));
        Assert.Equal(ErrorCodes.InvalidField, Error(new Proto.InboundEvent { Id = "x", Type = "t", DataJson = "{not json" }));
        Assert.Equal(ErrorCodes.MissingField, Error(new Proto.InboundEvent { Id = "x", Type = "t", Contact = new Proto.InboundContact() }));
        Assert.Equal(ErrorCodes.InvalidField, Error(new Proto.InboundEvent { Id = new string('x', 129), Type = "t" }));
    }

    [Fact]
    public void A_key_limited_to_inboxes_starts_new_conversations_in_its_first_inbox_unless_the_body_names_one()
    {
        using var plain = JsonDocument.Parse("""{"id":"x","type":"t"}""");
        using var named = JsonDocument.Parse("""{"id":"x","type":"t","inbox":"sales"}""");

        Assert.Equal("support", InboundParser.Parse(plain.RootElement, ["support", "sales"]).Event!.InboxId);
        Assert.Equal("sales", InboundParser.Parse(named.RootElement, ["support", "sales"]).Event!.InboxId);
        Assert.Equal(["support", "sales"], InboundParser.Parse(plain.RootElement, ["support", "sales"]).Event!.AllowedInboxes!);
    }

    private static InboundEvent Json(string body)
    {
        using var document = JsonDocument.Parse(body);
        var (inbound, error) = InboundParser.Parse(document.RootElement, null);
        Assert.Null(error);
        return inbound!;
    }

    private static InboundEvent Parse(Proto.InboundEvent body)
    {
        var (inbound, error) = InboundParser.Parse(body, null);
        Assert.Null(error);
        return inbound!;
    }

    private static string? Error(Proto.InboundEvent? body) => InboundParser.Parse(body, null).Error?.Code;
}
