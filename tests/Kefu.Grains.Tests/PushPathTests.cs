using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

[Collection(DefaultClusterCollection.Name)]
public sealed class PushPathTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task MessagesAndTypingReachTheRegisteredGateway()
    {
        var tenant = Scenario.NewTenant();
        var gatewayId = "gw-test-" + Guid.NewGuid().ToString("N");
        var observer = new FakeGatewayObserver();
        var reference = Client.CreateObjectReference<IGatewayObserver>(observer);
        var gateway = Client.GetGrain<IGatewayGrain>(gatewayId);
        await gateway.Register(reference);
        try
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant);
            var agent = await Scenario.NewAgentAsync(Client, tenant);
            await visitor.Grain.Connect(gatewayId, "conn-visitor");
            await agent.Grain.Connect(gatewayId, "conn-agent");
            Assert.Equal([gatewayId], (await visitor.Grain.GetPresence()).Gateways);

            var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
            (await agent.Grain.Join(conversationId)).Ok();

            var ack = (await conversation.SendAsync(visitor.Caller, "c-1", "hello agent", "conn-visitor")).Ok();
            var pushed = await observer.WaitForAsync(
                e => e.Event is MessageEvent m && m.Message.ConversationId == conversationId,
                "the visitor's message");
            var message = Assert.IsType<MessageEvent>(pushed.Event).Message;
            Assert.Equal(ack.Seq, message.Seq);
            Assert.Equal(ack.MessageId, message.MessageId);
            Assert.Equal("hello agent", message.Text);
            Assert.Contains(agent.ParticipantKey, pushed.Recipients);
            Assert.Contains(visitor.ParticipantKey, pushed.Recipients); // the visitor's other tabs
            Assert.Equal("conn-visitor", pushed.ExcludeConnectionId);

            (await conversation.Typing(visitor.Caller, true)).Ok();
            var typing = await observer.WaitForAsync(
                e => e.Event is TypingEvent t && t.ConversationId == conversationId && t.Sender.Id == visitor.Id,
                "the visitor's typing");
            Assert.True(Assert.IsType<TypingEvent>(typing.Event).On);
            Assert.Equal([agent.ParticipantKey], typing.Recipients);
            Assert.Null(typing.ExcludeConnectionId);

            // And the other way round: the agent's reply reaches the visitor, typing skips the agent.
            var reply = (await conversation.SendAsync(agent.Caller, "a-1", "hello visitor", "conn-agent")).Ok();
            var replyPush = await observer.WaitForAsync(
                e => e.Event is MessageEvent m && m.Message.ConversationId == conversationId && m.Message.Seq == reply.Seq,
                "the agent's reply");
            Assert.Contains(visitor.ParticipantKey, replyPush.Recipients);
            Assert.Equal("conn-agent", replyPush.ExcludeConnectionId);

            (await conversation.Typing(agent.Caller, false)).Ok();
            var agentTyping = await observer.WaitForAsync(
                e => e.Event is TypingEvent t && t.ConversationId == conversationId && t.Sender.Id == agent.Id,
                "the agent's typing");
            Assert.Equal([visitor.ParticipantKey], agentTyping.Recipients);
            Assert.False(Assert.IsType<TypingEvent>(agentTyping.Event).On);

            // Seqs arrive in order and only once each.
            var seqs = observer.Received
                .Select(e => e.Event)
                .OfType<MessageEvent>()
                .Where(m => m.ConversationId == conversationId)
                .Select(m => m.Message.Seq);
            Assert.Equal([1L, 2L], seqs);
        }
        finally
        {
            await gateway.Unregister();
            Client.DeleteObjectReference<IGatewayObserver>(reference);
            GC.KeepAlive(observer);
        }
    }

    [Fact]
    public async Task ReadMarksArePushedToTheOtherParticipants()
    {
        var tenant = Scenario.NewTenant();
        var gatewayId = "gw-test-" + Guid.NewGuid().ToString("N");
        var observer = new FakeGatewayObserver();
        var reference = Client.CreateObjectReference<IGatewayObserver>(observer);
        var gateway = Client.GetGrain<IGatewayGrain>(gatewayId);
        await gateway.Register(reference);
        try
        {
            var visitor = await Scenario.NewVisitorAsync(Client, tenant);
            var agent = await Scenario.NewAgentAsync(Client, tenant);
            await visitor.Grain.Connect(gatewayId, "conn-visitor");
            await agent.Grain.Connect(gatewayId, "conn-agent");
            var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
            (await agent.Grain.Join(conversationId)).Ok();
            (await conversation.SendAsync(visitor.Caller, "c-1", "one")).Ok();
            (await conversation.SendAsync(visitor.Caller, "c-2", "two")).Ok();

            Assert.Equal(2, (await conversation.MarkRead(agent.Caller, 99)).Ok());
            var read = await observer.WaitForAsync(
                e => e.Event is ReadEvent r && r.ConversationId == conversationId,
                "the agent's read mark");
            var readEvent = Assert.IsType<ReadEvent>(read.Event);
            Assert.Equal(2, readEvent.Seq);
            Assert.Equal(agent.Id, readEvent.Reader.Id);
            Assert.Equal([visitor.ParticipantKey], read.Recipients);
        }
        finally
        {
            await gateway.Unregister();
            Client.DeleteObjectReference<IGatewayObserver>(reference);
            GC.KeepAlive(observer);
        }
    }
}
