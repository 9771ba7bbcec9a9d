using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Proto = Kefu.Contracts.Protocol;

namespace Kefu.Gateway.Tests;

/// <summary>
/// Typed message content (docs/protocol.md §5.1, §6.2): a send refers to an upload by id, the server fills its type,
/// name and size from the upload of the same conversation, and every reader (message frames of both encodings, sync,
/// REST history) gets <c>content</c>; the legacy <c>[attachment:…]</c> text form still works.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MessageContentTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Json_send_with_attachment_content_reaches_the_agent_live_in_sync_and_in_rest_history()
    {
        var (conversationId, visitorToken, visitor, agentToken, agent) = await JoinedConversationAsync();
        await using var _ = visitor;
        await using var __ = agent;
        var upload = await UploadAsync(visitorToken, conversationId, "dot.png");
        var id = upload.Str("attachmentId")!;

        // No text: the content is the message; the client's own type/name/size are not trusted.
        await visitor.SendAsync(new
        {
            type = "send",
            clientMsgId = "f1",
            conversationId,
            content = new { kind = "attachment", attachmentId = id, contentType = "text/html", name = "evil.html", size = 1 },
        });
        var ack = (await visitor.ReceiveUntilAsync("ack", f => f.Str("clientMsgId") == "f1"))[^1];
        Assert.Equal(2, ack.Long("seq"));

        var live = (await agent.ReceiveUntilAsync("message", m => m.Long("seq") == 2))[^1];
        Assert.Equal("dot.png", live.Str("text"));
        AssertAttachment(live.GetProperty("content"), id, "image/png", "dot.png", AttachmentTests.Png.Length);

        // The first message, plain text, says so.
        await agent.SendAsync(new { type = "sync", conversationId, afterSeq = 0 });
        var synced = await agent.ReceiveUntilAsync("synced");
        var history = synced.Where(f => f.Type() == "message").ToArray();
        Assert.Equal("""{"kind":"text"}""", history[0].GetProperty("content").GetRawText());
        AssertAttachment(history[1].GetProperty("content"), id, "image/png", "dot.png", AttachmentTests.Png.Length);

        using var http = gateway.Http(agentToken);
        var rest = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages");
        var messages = rest.GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal("""{"kind":"text"}""", messages[0].GetProperty("content").GetRawText());
        Assert.Equal("dot.png", messages[1].Str("text"));
        AssertAttachment(messages[1].GetProperty("content"), id, "image/png", "dot.png", AttachmentTests.Png.Length);
    }

    [Fact]
    public async Task Binary_send_with_attachment_content_reaches_binary_and_json_readers()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync("Bin");
        await using var visitor = await BinChatClient.ConnectAsync(gateway.WebSocketUri, visitorToken);
        var first = await visitor.SendMessageAsync("Hello");
        var conversationId = Ids.Text(first.ConversationId);
        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await BinChatClient.ConnectAsync(gateway.WebSocketUri, agentToken);
        await agent.SendAsync(new Proto.ClientFrame { Join = new Proto.JoinRequest { ConversationId = Ids.Bytes(conversationId) } });
        await agent.ExpectAsync(Proto.ServerFrame.FrameOneofCase.Joined);
        var id = (await UploadAsync(visitorToken, conversationId, "photo.png")).Str("attachmentId")!;

        await visitor.SendAsync(new Proto.ClientFrame
        {
            Send = new Proto.SendRequest
            {
                ClientMsgId = "b1",
                Content = new Proto.MessageContent { Attachment = new() { AttachmentId = Ids.Bytes(id) } },
            },
        });
        var ack = (await visitor.ReceiveUntilAsync(Proto.ServerFrame.FrameOneofCase.Ack, f => f.Ack.ClientMsgId == "b1"))[^1].Ack;
        Assert.Equal(2, ack.Seq);

        var pushed = (await agent.ReceiveUntilAsync(Proto.ServerFrame.FrameOneofCase.Message, f => f.Message.Seq == 2))[^1].Message;
        Assert.Equal("photo.png", pushed.Text);
        Assert.Equal(Proto.MessageContent.KindOneofCase.Attachment, pushed.Content.KindCase);
        Assert.Equal(id, Ids.Text(pushed.Content.Attachment.AttachmentId));
        Assert.Equal("image/png", pushed.Content.Attachment.ContentType);
        Assert.Equal("photo.png", pushed.Content.Attachment.Name);
        Assert.Equal(AttachmentTests.Png.Length, pushed.Content.Attachment.Size);

        // A text message's content is the text case; a JSON reader sees the same attachment.
        await agent.SendAsync(new Proto.ClientFrame { Sync = new Proto.SyncRequest { ConversationId = Ids.Bytes(conversationId) } });
        var synced = await agent.ReceiveUntilAsync(Proto.ServerFrame.FrameOneofCase.Synced);
        Assert.Equal(Proto.MessageContent.KindOneofCase.Text, synced.First(f => f.Message?.Seq == 1).Message.Content.KindCase);

        await using var json = await gateway.ConnectAsync(agentToken);
        await json.SendAsync(new { type = "sync", conversationId, afterSeq = 1 });
        var message = await json.ExpectAsync("message");
        AssertAttachment(message.GetProperty("content"), id, "image/png", "photo.png", AttachmentTests.Png.Length);
    }

    [Fact]
    public async Task The_legacy_text_form_is_stored_as_attachment_content()
    {
        var (conversationId, visitorToken, visitor, agentToken, agent) = await JoinedConversationAsync();
        await using var _ = visitor;
        await using var __ = agent;
        var id = (await UploadAsync(visitorToken, conversationId, "scan.png")).Str("attachmentId")!;

        // An old client: the reference as text (with a name of its own; the stored one wins).
        await visitor.SendMessageAsync($"[attachment:{id}:image/png] whatever.png", conversationId, "old1");

        var live = (await agent.ReceiveUntilAsync("message", m => m.Str("clientMsgId") == "old1"))[^1];
        Assert.Equal("scan.png", live.Str("text"));
        AssertAttachment(live.GetProperty("content"), id, "image/png", "scan.png", AttachmentTests.Png.Length);

        using var http = gateway.Http(agentToken);
        var rest = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages?after=1");
        AssertAttachment(rest.GetProperty("messages")[0].GetProperty("content"), id, "image/png", "scan.png", AttachmentTests.Png.Length);

        // A send that says it is text is text, whatever it looks like.
        var said = $"[attachment:{id}:image/png] scan.png";
        await visitor.SendAsync(new { type = "send", clientMsgId = "old3", conversationId, text = said, content = new { kind = "text" } });
        var typedText = (await agent.ReceiveUntilAsync("message", m => m.Str("clientMsgId") == "old3"))[^1];
        Assert.Equal(said, typedText.Str("text"));
        Assert.Equal("""{"kind":"text"}""", typedText.GetProperty("content").GetRawText());

        // Text that merely contains the form is text.
        var text = $"see [attachment:{id}:image/png] scan.png";
        await visitor.SendMessageAsync(text, conversationId, "old2");
        var plain = (await agent.ReceiveUntilAsync("message", m => m.Str("clientMsgId") == "old2"))[^1];
        Assert.Equal(text, plain.Str("text"));
        Assert.Equal("""{"kind":"text"}""", plain.GetProperty("content").GetRawText());
    }

    [Fact]
    public async Task An_attachment_not_uploaded_to_this_conversation_is_not_found_and_nothing_is_stored()
    {
        var (conversationId, visitorToken, visitor, agentToken, agent) = await JoinedConversationAsync();
        await using var _ = visitor;
        await using var __ = agent;

        // Another conversation's upload (another visitor's) and an id nobody uploaded.
        var (_, otherToken) = await gateway.CreateVisitorAsync("Other");
        await using var other = await gateway.ConnectAsync(otherToken);
        var otherConversation = (await other.SendMessageAsync("hi")).Str("conversationId")!;
        var foreign = (await UploadAsync(otherToken, otherConversation, "theirs.png")).Str("attachmentId")!;

        foreach (var (id, reference) in new[] { (foreign, "x1"), (Ulid.NewUlid().ToString(), "x2") })
        {
            await visitor.SendAsync(new { type = "send", clientMsgId = reference, conversationId, content = new { kind = "attachment", attachmentId = id } });
            var error = (await visitor.ReceiveUntilAsync("error"))[^1];
            Assert.Equal("not_found", error.Str("code"));
            Assert.Equal(reference, error.Str("ref"));
        }

        await visitor.SendAsync(new { type = "send", clientMsgId = "x3", text = $"[attachment:{foreign}:image/png] theirs.png" });
        var legacy = (await visitor.ReceiveUntilAsync("error"))[^1];
        Assert.Equal("not_found", legacy.Str("code"));
        Assert.Equal("x3", legacy.Str("ref"));

        // Binary: the same answer.
        await using var bin = await BinChatClient.ConnectAsync(gateway.WebSocketUri, visitorToken);
        await bin.SendAsync(new Proto.ClientFrame
        {
            Send = new Proto.SendRequest { ClientMsgId = "x4", Content = new Proto.MessageContent { Attachment = new() { AttachmentId = Ids.Bytes(foreign) } } },
        });
        var binError = (await bin.ReceiveUntilAsync(Proto.ServerFrame.FrameOneofCase.Error))[^1].Error;
        Assert.Equal("not_found", binError.Code);
        Assert.Equal("x4", binError.Ref);

        using var http = gateway.Http(agentToken);
        var rest = await http.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{conversationId}/messages");
        Assert.Equal(1, rest.Long("lastSeq"));
    }

    [Theory]
    [InlineData("""{"type":"send","clientMsgId":"c","content":{"kind":"card"}}""", "invalid_field")]
    [InlineData("""{"type":"send","clientMsgId":"c","content":{}}""", "missing_field")]
    [InlineData("""{"type":"send","clientMsgId":"c","content":"attachment"}""", "invalid_field")]
    [InlineData("""{"type":"send","clientMsgId":"c","content":{"kind":"attachment"}}""", "missing_field")]
    [InlineData("""{"type":"send","clientMsgId":"c","content":{"kind":"attachment","attachmentId":"nope"}}""", "invalid_field")]
    [InlineData("""{"type":"send","clientMsgId":"c","content":{"kind":"attachment","attachmentId":7}}""", "invalid_field")]
    [InlineData("""{"type":"send","clientMsgId":"c","content":{"kind":"text"}}""", "missing_field")]
    public async Task Bad_content_is_refused_with_a_code(string frame, string code)
    {
        var (_, token) = await gateway.CreateVisitorAsync("Bad");
        await using var visitor = await gateway.ConnectAsync(token);
        await visitor.SendRawAsync(frame);
        var error = await visitor.ExpectAsync("error");
        Assert.Equal(code, error.Str("code"));
        Assert.Equal("c", error.Str("ref"));
    }

    [Fact]
    public async Task A_binary_content_case_this_server_does_not_know_is_refused()
    {
        var (_, token) = await gateway.CreateVisitorAsync("Newer");
        await using var visitor = await BinChatClient.ConnectAsync(gateway.WebSocketUri, token);

        // MessageContent with a field number from a newer schema (a card, say), carried as an unknown field.
        var content = new byte[] { 0x1A, 0x02, 0x08, 0x01 }; // field 3, length 2: { field 1 = 1 }
        var send = new Proto.SendRequest { ClientMsgId = "n1" }.ToByteArray().Concat(new byte[] { 0x22, (byte)content.Length }).Concat(content).ToArray();
        var frame = new byte[] { 0x0A, (byte)send.Length }.Concat(send).ToArray();
        await visitor.SendBytesAsync(frame, System.Net.WebSockets.WebSocketMessageType.Binary);

        var error = (await visitor.ExpectAsync(Proto.ServerFrame.FrameOneofCase.Error)).Error;
        Assert.Equal("invalid_field", error.Code);
        Assert.Equal("n1", error.Ref);
    }

    private static void AssertAttachment(JsonElement content, string id, string type, string name, long size)
    {
        Assert.Equal("attachment", content.Str("kind"));
        Assert.Equal(id, content.Str("attachmentId"));
        Assert.Equal(type, content.Str("contentType"));
        Assert.Equal(name, content.Str("name"));
        Assert.Equal(size, content.Long("size"));
    }

    private async Task<JsonElement> UploadAsync(string token, string conversationId, string name)
    {
        using var http = gateway.Http(token);
        return await Desk.Ok(await AttachmentTests.UploadAsync(http, conversationId, AttachmentTests.Png, "image/png", name));
    }

    /// <summary>A visitor's conversation (one text message) joined by a fresh agent; both connected with kefu.v1.json.</summary>
    private async Task<(string ConversationId, string VisitorToken, ChatClient Visitor, string AgentToken, ChatClient Agent)> JoinedConversationAsync()
    {
        var (_, visitorToken) = await gateway.CreateVisitorAsync("Ann");
        var visitor = await gateway.ConnectAsync(visitorToken);
        var conversationId = (await visitor.SendMessageAsync("Hello")).Str("conversationId")!;
        var (_, agentToken) = await gateway.CreateAgentAsync();
        var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId });
        await agent.ReceiveUntilAsync("joined");
        return (conversationId, visitorToken, visitor, agentToken, agent);
    }
}
