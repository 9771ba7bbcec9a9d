using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// The visitor's (or the agent console's) connection drops while both sides keep writing; when it comes back, every
/// message is shown exactly once, in seq order, on both sides.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ResumeTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Messages_sent_by_both_sides_while_the_visitor_is_offline_arrive_once_and_in_order()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("one");
        await Expect(visitor.Message("one")).ToHaveAttributeAsync("data-state", "sent");
        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());
        await agent.SendAsync("two");
        await Expect(visitor.Message("two")).ToHaveAttributeAsync("data-seq", "2");

        // The network goes away and the socket with it.
        await visitor.Context.SetOfflineAsync(true);
        await visitor.Page.EvaluateAsync("() => window.__kefuCut()");
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeVisibleAsync();

        await agent.SendAsync("three, from the agent during the outage");
        await Expect(agent.Message("three, from the agent during the outage")).ToHaveAttributeAsync("data-state", "sent");
        await visitor.SendAsync("four, from the visitor during the outage");
        var four = visitor.Message("four, from the visitor during the outage");
        await Expect(four).ToHaveAttributeAsync("data-state", "sending");
        await visitor.Page.WaitForTimeoutAsync(1500);
        await Expect(visitor.Message("three, from the agent during the outage")).ToHaveCountAsync(0);
        await Expect(four).ToHaveAttributeAsync("data-state", "sending");

        // Back online: the widget reconnects, syncs what it missed and re-sends what was not acked.
        await visitor.Context.SetOfflineAsync(false);
        await Expect(visitor.Message("three, from the agent during the outage")).ToHaveAttributeAsync("data-seq", "3");
        await Expect(four).ToHaveAttributeAsync("data-seq", "4");
        await Expect(agent.Message("four, from the visitor during the outage")).ToHaveAttributeAsync("data-seq", "4");
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeHiddenAsync();

        // A send that was stored but whose ack was lost: the retry carries the same clientMsgId, so nothing doubles.
        await visitor.Page.EvaluateAsync("() => { window.__kefuDropAcks = true; }");
        await visitor.SendAsync("five, acked but the ack is lost");
        await Expect(agent.Message("five, acked but the ack is lost")).ToHaveAttributeAsync("data-seq", "5");
        var five = visitor.Message("five, acked but the ack is lost");
        await Expect(five).ToHaveAttributeAsync("data-state", "sending");
        await visitor.Page.EvaluateAsync("() => { window.__kefuDropAcks = false; window.__kefuCut(); }");
        await Expect(five).ToHaveAttributeAsync("data-seq", "5");
        await agent.SendAsync("six");
        await Expect(visitor.Message("six")).ToHaveAttributeAsync("data-seq", "6");
        await Expect(agent.Message("six")).ToHaveAttributeAsync("data-seq", "6");

        string[] expected =
        [
            "one", "two", "three, from the agent during the outage", "four, from the visitor during the outage",
            "five, acked but the ack is lost", "six",
        ];
        var shownToVisitor = await visitor.MessagesAsync();
        var shownToAgent = await agent.MessagesAsync();
        Assert.Equal(expected, shownToVisitor.Select(m => m.Text));
        Assert.Equal(expected, shownToAgent.Select(m => m.Text));
        Assert.Equal([1L, 2, 3, 4, 5, 6], shownToVisitor.Select(m => m.Seq!.Value));
        Assert.Equal([1L, 2, 3, 4, 5, 6], shownToAgent.Select(m => m.Seq!.Value));
        Assert.DoesNotContain(shownToVisitor, m => m.State is "sending" or "failed");
    }

    [Fact]
    public async Task Messages_sent_while_the_agent_console_is_offline_arrive_once_and_in_order_after_it_reconnects()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: VisitorPage.SocketProbe);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await agent.OpenConversationAsync(await visitor.StartConversationAsync("one"), filter: "mine");
        await agent.SendAsync("two");
        await Expect(visitor.Message("two")).ToHaveAttributeAsync("data-seq", "2");

        // The agent's network goes away and the console's socket with it.
        await agent.Context.SetOfflineAsync(true);
        await agent.CutSocketsAsync();
        await Expect(agent.Page.Locator("#connection")).ToHaveClassAsync("connection offline");

        await visitor.SendAsync("three, from the visitor during the outage");
        await Expect(visitor.Message("three, from the visitor during the outage")).ToHaveAttributeAsync("data-seq", "3");
        await agent.SendAsync("four, from the agent during the outage");
        var four = agent.Message("four, from the agent during the outage");
        await Expect(four).ToHaveAttributeAsync("data-state", "sending");
        await visitor.SendAsync("five, from the visitor during the outage");
        await Expect(visitor.Message("five, from the visitor during the outage")).ToHaveAttributeAsync("data-seq", "4");
        await Expect(agent.Message("three, from the visitor during the outage")).ToHaveCountAsync(0);
        await Expect(four).ToHaveAttributeAsync("data-state", "sending");

        // Back online: the console reconnects, rejoins, syncs what it missed and re-sends what was not acked.
        await agent.Context.SetOfflineAsync(false);
        await Expect(agent.Page.Locator("#connection")).ToHaveClassAsync("connection online");
        await Expect(agent.Message("three, from the visitor during the outage")).ToHaveAttributeAsync("data-seq", "3");
        await Expect(agent.Message("five, from the visitor during the outage")).ToHaveAttributeAsync("data-seq", "4");
        await Expect(four).ToHaveAttributeAsync("data-seq", "5");
        await Expect(visitor.Message("four, from the agent during the outage")).ToHaveAttributeAsync("data-seq", "5");
        await visitor.SendAsync("six");
        await Expect(agent.Message("six")).ToHaveAttributeAsync("data-seq", "6");

        string[] expected =
        [
            "one", "two", "three, from the visitor during the outage", "five, from the visitor during the outage",
            "four, from the agent during the outage", "six",
        ];
        var shownToAgent = await agent.MessagesAsync();
        var shownToVisitor = await visitor.MessagesAsync();
        Assert.Equal(expected, shownToAgent.Select(m => m.Text));
        Assert.Equal(expected, shownToVisitor.Select(m => m.Text));
        Assert.Equal([1L, 2, 3, 4, 5, 6], shownToAgent.Select(m => m.Seq!.Value));
        Assert.Equal([1L, 2, 3, 4, 5, 6], shownToVisitor.Select(m => m.Seq!.Value));
        Assert.DoesNotContain(shownToAgent, m => m.State is "sending" or "failed");
    }
}
