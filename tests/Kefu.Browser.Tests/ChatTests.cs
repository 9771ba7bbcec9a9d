using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>A visitor on the demo page and an agent in the console, in two browser profiles, chatting.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ChatTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Visitor_and_agent_chat_both_ways_with_typing_and_read_receipts()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);

        await visitor.OpenPanelAsync();
        await visitor.SendAsync("Hello, where is my order #1234?");
        var first = visitor.Message("Hello, where is my order #1234?");
        await Expect(first).ToHaveAttributeAsync("data-state", "sent");
        await Expect(first).ToHaveAttributeAsync("data-seq", "1");
        var conversationId = await visitor.ConversationIdAsync();

        await agent.OpenConversationAsync(conversationId);
        await Expect(agent.Message("Hello, where is my order #1234?")).ToHaveAttributeAsync("data-seq", "1");
        // The agent has seen it: the visitor's message turns "read".
        await Expect(first).ToHaveAttributeAsync("data-state", "read");

        // Typing shows on the other side, both ways.
        await visitor.Input.PressSequentiallyAsync("Also");
        await Expect(agent.Page.Locator("#typing")).ToContainTextAsync("is typing");
        await visitor.Input.FillAsync("");
        await agent.Input.PressSequentiallyAsync("Let me");
        await Expect(visitor.Widget.Locator(".typing")).ToContainTextAsync("is typing");

        await agent.SendAsync("Hi! Let me check that for you.");
        var reply = visitor.Message("Hi! Let me check that for you.");
        await Expect(reply).ToHaveAttributeAsync("data-seq", "2");
        await Expect(visitor.Widget.Locator(".typing")).ToBeHiddenAsync();
        // The widget is open, so the visitor has read it: the agent's message turns "read".
        await Expect(agent.Message("Hi! Let me check that for you.")).ToHaveAttributeAsync("data-state", "read");

        await visitor.SendAsync("Thanks 谢谢!");
        await Expect(agent.Message("Thanks 谢谢!")).ToHaveAttributeAsync("data-seq", "3");
        await agent.SendAsync("It ships today. 今天发货。");
        await Expect(visitor.Message("It ships today. 今天发货。")).ToHaveAttributeAsync("data-seq", "4");

        string[] expected = ["Hello, where is my order #1234?", "Hi! Let me check that for you.", "Thanks 谢谢!", "It ships today. 今天发货。"];
        Assert.Equal(expected, (await visitor.MessagesAsync()).Select(m => m.Text));
        Assert.Equal(expected, (await agent.MessagesAsync()).Select(m => m.Text));

        await Screenshots.SaveAsync(visitor.Page, "widget");
        await Screenshots.SaveAsync(agent.Page, "console-chat");
    }

    [Fact]
    public async Task A_returning_visitor_sees_the_history_after_a_reload()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture); // someone is online: the chat is open
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("before reload");
        await Expect(visitor.Message("before reload")).ToHaveAttributeAsync("data-state", "sent");

        await visitor.Page.ReloadAsync();
        await visitor.OpenPanelAsync();
        await Expect(visitor.Message("before reload")).ToHaveAttributeAsync("data-seq", "1");
        await visitor.SendAsync("after reload");
        await Expect(visitor.Message("after reload")).ToHaveAttributeAsync("data-seq", "2");
        Assert.Equal(["before reload", "after reload"], (await visitor.MessagesAsync()).Select(m => m.Text));
    }

    [Fact]
    public async Task The_widget_speaks_chinese_to_a_chinese_browser()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture, locale: "zh-CN");
        await Expect(visitor.Widget.Locator("button.bubble")).ToHaveAttributeAsync("aria-label", "打开聊天");
        await visitor.OpenPanelAsync();
        await Expect(visitor.Input).ToHaveAttributeAsync("placeholder", "输入消息…");
        await Expect(visitor.Widget.Locator("header p")).ToHaveTextAsync("我们通常几分钟内回复");
        await visitor.SendAsync("你好，我想咨询一下");
        await Expect(visitor.Message("你好，我想咨询一下").Locator(".meta")).ToContainTextAsync("已发送");
        await Screenshots.SaveAsync(visitor.Page, "widget-zh-CN", visitor.Widget.Locator("section.panel"));
    }
}
