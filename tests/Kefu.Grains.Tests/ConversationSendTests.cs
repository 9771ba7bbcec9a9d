using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tests;

[Collection(DefaultClusterCollection.Name)]
public sealed class ConversationSendTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task ConcurrentSendsGetGapFreeSeqsStartingAtOne()
    {
        // A staffed inbox: no away message takes a seq between the visitor's messages.
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(i => conversation.SendAsync(visitor.Caller, $"c-{i}", $"message {i}")));

        var acks = outcomes.Select(o => o.Ok()).ToArray();
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), acks.Select(a => a.Seq).Order());
        Assert.All(acks, a => Assert.Equal(conversationId, a.ConversationId));
        Assert.Equal(50, acks.Select(a => a.MessageId).Distinct().Count());

        var page = (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok();
        Assert.Equal(50, page.LastSeq);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), page.Messages.Select(m => m.Seq));

        // Each stored message is the one its ack describes.
        var byClientId = acks.ToDictionary(a => a.ClientMsgId);
        Assert.All(page.Messages, m =>
        {
            var ack = byClientId[m.ClientMsgId!];
            Assert.Equal(ack.Seq, m.Seq);
            Assert.Equal(ack.MessageId, m.MessageId);
            Assert.Equal("message " + m.ClientMsgId!["c-".Length..], m.Text);
            Assert.Equal(visitor.Caller.AsSender(), m.Sender);
        });

        Assert.Equal(50, (await conversation.GetSummary())!.LastSeq);
    }

    [Fact]
    public async Task RetriedClientMsgIdGetsTheOriginalAckAndStoresOnce()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        var first = (await conversation.SendAsync(visitor.Caller, "retry-me", "hello")).Ok();
        var retry = (await conversation.SendAsync(visitor.Caller, "retry-me", "hello (again)")).Ok();
        Assert.Equal(first, retry);
        Assert.Equal(1, first.Seq);

        var page = (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok();
        var stored = Assert.Single(page.Messages);
        Assert.Equal("hello", stored.Text);
        Assert.Equal(first.MessageId, stored.MessageId);

        // The same clientMsgId from someone else is a different message (the agent was assigned; joining is harmless).
        (await agent.Grain.Join(conversationId)).Ok();
        var fromAgent = (await conversation.SendAsync(agent.Caller, "retry-me", "hi, how can I help?")).Ok();
        Assert.Equal(2, fromAgent.Seq);
        Assert.NotEqual(first.MessageId, fromAgent.MessageId);

        // And each sender's retry still maps to its own message.
        Assert.Equal(first, (await conversation.SendAsync(visitor.Caller, "retry-me", "hello")).Ok());
        Assert.Equal(fromAgent, (await conversation.SendAsync(agent.Caller, "retry-me", "hi, how can I help?")).Ok());

        page = (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok();
        Assert.Equal([1L, 2L], page.Messages.Select(m => m.Seq));
        Assert.Equal(agent.Caller.AsSender(), page.Messages[1].Sender);
        Assert.Equal(2, page.LastSeq);
    }

    /// <summary>
    /// The idempotency window (ConversationOptions.IdempotencyWindow) is the number of recent (sender, clientMsgId)
    /// pairs whose retries get the original ack, and ConversationState says that window lives in the message store,
    /// so it must not shrink when the grain is reactivated (idle collection, silo restart: exactly when clients retry).
    /// </summary>
    [Fact]
    public async Task RetryInsideTheIdempotencyWindowGetsTheOriginalAckAfterReactivation()
    {
        var options = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IOptions<ConversationOptions>>().Value;
        var sends = options.RecentWindow + 44;
        Assert.True(sends <= options.IdempotencyWindow, "the test needs a retry that is inside the idempotency window");
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var acks = new List<SendAck>();
        for (var i = 1; i <= sends; i++)
        {
            acks.Add((await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok());
        }

        // Before reactivation the whole window is honoured.
        Assert.Equal(acks[0], (await conversation.SendAsync(visitor.Caller, "c-1", "m1")).Ok());

        await fixture.Cluster.DeactivateAsync(conversation);

        Assert.Equal(acks[^1], (await conversation.SendAsync(visitor.Caller, $"c-{sends}", $"m{sends}")).Ok());
        Assert.Equal(acks[0], (await conversation.SendAsync(visitor.Caller, "c-1", "m1")).Ok());
        Assert.Equal(sends, (await conversation.GetSummary())!.LastSeq);
    }

    [Fact]
    public async Task InvalidSendsAreRefusedAndStoreNothing()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var maxText = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IOptions<ConversationOptions>>().Value.MaxTextLength;

        (await conversation.SendAsync(visitor.Caller, "c-1", string.Empty)).AssertError(ErrorCodes.InvalidField);
        (await conversation.SendAsync(visitor.Caller, "c-2", " \t\r\n ")).AssertError(ErrorCodes.InvalidField);
        (await conversation.SendAsync(visitor.Caller, new string('x', 65), "hello")).AssertError(ErrorCodes.InvalidField);
        (await conversation.SendAsync(visitor.Caller, string.Empty, "hello")).AssertError(ErrorCodes.InvalidField);
        (await conversation.SendAsync(visitor.Caller, "c-3", new string('y', maxText + 1))).AssertError(ErrorCodes.TextTooLong);

        var page = (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok();
        Assert.Empty(page.Messages);
        Assert.Equal(0, page.LastSeq);
        Assert.Equal(0, (await conversation.GetSummary())!.LastSeq);

        // A refused clientMsgId is not remembered, and the limits themselves are allowed: nothing consumed a seq.
        var ok = (await conversation.SendAsync(visitor.Caller, "c-3", new string('y', maxText))).Ok();
        Assert.Equal(1, ok.Seq);
        var longId = (await conversation.SendAsync(visitor.Caller, new string('x', 64), "hello")).Ok();
        Assert.Equal(2, longId.Seq);
        Assert.Equal([1L, 2L], (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok().Messages.Select(m => m.Seq));
    }

    [Fact]
    public async Task ReadMarksAreClampedAndNeverMoveBack()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var agent = await Scenario.NewOnlineAgentAsync(Client, tenant);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        (await agent.Grain.Join(conversationId)).Ok();
        for (var i = 1; i <= 5; i++)
        {
            (await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok();
        }

        // The agent has read nothing yet; its mark only moves forward and never past the last seq.
        Assert.Equal(5, (await conversation.MarkRead(agent.Caller, 1_000)).Ok());
        Assert.Equal(5, (await conversation.MarkRead(agent.Caller, 3)).Ok());
        Assert.Equal(5, (await conversation.MarkRead(agent.Caller, -7)).Ok());

        (await conversation.SendAsync(visitor.Caller, "c-6", "m6")).Ok();
        (await conversation.SendAsync(visitor.Caller, "c-7", "m7")).Ok();
        Assert.Equal(5, (await conversation.MarkRead(agent.Caller, 4)).Ok());
        Assert.Equal(6, (await conversation.MarkRead(agent.Caller, 6)).Ok());
        Assert.Equal(7, (await conversation.MarkRead(agent.Caller, long.MaxValue)).Ok());

        // Marks are per participant, and a sender has read its own messages: the visitor's mark is at its last one.
        Assert.Equal(7, (await conversation.MarkRead(visitor.Caller, 2)).Ok());
        (await conversation.SendAsync(agent.Caller, "a-1", "hello")).Ok();
        Assert.Equal(8, (await conversation.MarkRead(agent.Caller, 1)).Ok());
        Assert.Equal(7, (await conversation.MarkRead(visitor.Caller, 1)).Ok());
    }
}
