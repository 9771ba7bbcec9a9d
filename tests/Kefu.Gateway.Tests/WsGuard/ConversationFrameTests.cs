using Kefu.Gateway.Tests.Infrastructure;
using Case = Kefu.Contracts.Protocol.ServerFrame.FrameOneofCase;

namespace Kefu.Gateway.Tests.WsGuard;

/// <summary>
/// The <c>conversation</c> event carries the conversation list's fields (preview, last activity, unread, display names,
/// queued time), in both encodings, so a console can keep its list up to date from frames alone (docs/protocol.md §6.4).
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ConversationFrameTests(GatewayFixture gateway)
{
    [Fact]
    public async Task A_conversation_frame_carries_preview_last_activity_unread_and_names_in_json_and_protobuf()
    {
        var (agentId, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await using var agentBin = await BinChatClient.ConnectAsync(gateway.WebSocketUri, agentToken);
        var (visitorId, visitorToken) = await gateway.CreateVisitorAsync("Ana Lopez");
        await using var visitor = await gateway.ConnectAsync(visitorToken);
        var ack = await visitor.SendMessageAsync("Where is my order?");
        var conversationId = ack.Str("conversationId")!;

        // Taking it (manual inbox: the first agent to join) changes the assignee: a conversation frame to everyone.
        await agent.SendAsync(new { type = "join", conversationId });
        var frame = (await agent.ReceiveUntilAsync("conversation", f => f.Str("conversationId") == conversationId && f.Str("assigneeId") == agentId))[^1];
        Assert.Equal(visitorId, frame.Str("visitorId"));
        Assert.Equal("Ana Lopez", frame.Str("visitorName"));
        Assert.Equal("Where is my order?", frame.Str("preview"));
        Assert.Equal("Agent " + agentId, frame.Str("assigneeName"));
        Assert.Equal(1, frame.Long("unread"));
        var lastActivity = frame.GetProperty("lastActivityAt").GetDateTime();
        Assert.Equal(ack.GetProperty("ts").GetDateTime(), lastActivity, TimeSpan.FromSeconds(1));
        Assert.True(frame.TryGetProperty("queuedAt", out var queuedAt));
        Assert.Equal(frame.Str("status") == "queued", queuedAt.ValueKind == System.Text.Json.JsonValueKind.String);

        var bin = (await agentBin.ReceiveUntilAsync(Case.Conversation, f => Ids.Text(f.Conversation.ConversationId) == conversationId && f.Conversation.AssigneeId == agentId))[^1].Conversation;
        Assert.Equal("Ana Lopez", bin.VisitorName);
        Assert.Equal("Where is my order?", bin.Preview);
        Assert.Equal("Agent " + agentId, bin.AssigneeName);
        Assert.Equal(1, bin.Unread);
        Assert.InRange(bin.LastActivityAt - (new DateTimeOffset(lastActivity).ToUnixTimeMilliseconds() * 1000), -1000, 1000);
        Assert.Equal(frame.Str("status") == "queued", bin.HasQueuedAt);

        // The visitor's copy: the same list fields, its agent-side labels neutral (priority "normal").
        var own = (await visitor.ReceiveUntilAsync("conversation", f => f.Str("assigneeId") == agentId))[^1];
        Assert.Equal("Where is my order?", own.Str("preview"));
        Assert.Equal("Agent " + agentId, own.Str("assigneeName"));
        Assert.Equal("normal", own.Str("priority"));
        Assert.True(own.TryGetProperty("unread", out _));
    }
}
