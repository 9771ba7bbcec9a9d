using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// The activity timeline (grey lines between the messages, live) and @mentions in notes (a notice in the mentioned
/// agent's console, the mention highlighted in the note).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class TimelineTests(BrowserFixture fixture)
{
    [Fact]
    public async Task What_agents_do_appears_live_in_order_in_another_console()
    {
        var boId = await fixture.CreateAgentAsync("Bo");
        await using var ann = await ConsolePage.NewAgentAsync(fixture, "Ann");
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("Where is my refund?");
        await ann.OpenConversationAsync(conversationId, filter: "mine");

        // An admin watches the conversation; everything below happens in the other consoles.
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.OpenConversationAsync(conversationId);
        await Expect(admin.Message("Where is my refund?")).ToBeVisibleAsync();
        var lines = admin.Page.Locator("#log .activity");
        await Expect(lines.Filter(new() { HasText = "Assigned to Ann" })).ToHaveCountAsync(1);

        await ann.Page.Locator("#tag-input").FillAsync("refund");
        await ann.Page.Locator("#tag-form button").ClickAsync();
        await Expect(lines.Filter(new() { HasText = "Ann set the tags: refund" })).ToHaveCountAsync(1);

        await using var bo = await ConsolePage.LoginAsync(fixture, boId, BrowserFixture.AgentPassword);
        await ann.TransferAsync($"agent:{boId}");
        await Expect(lines.Filter(new() { HasText = "Ann transferred this to Bo" })).ToHaveCountAsync(1);

        await bo.OpenConversationAsync(conversationId, filter: "mine");
        await bo.Page.Locator("#resolve-button").ClickAsync();
        await Expect(lines.Filter(new() { HasText = "Bo resolved this" })).ToHaveCountAsync(1);

        // In the order it happened, each with its time; what the agents did comes after the visitor's message.
        var texts = await lines.AllTextContentsAsync();
        var order = new[] { "Assigned to Ann", "set the tags: refund", "Ann transferred this to Bo", "Bo resolved this" }
            .Select(s => texts.ToList().FindIndex(t => t.Contains(s, StringComparison.Ordinal))).ToList();
        Assert.True(order.All(i => i >= 0) && order.SequenceEqual(order.Order()), string.Join(" | ", texts));
        Assert.All(texts, t => Assert.Contains(" · ", t, StringComparison.Ordinal));
        Assert.True(await admin.Page.EvaluateAsync<bool>(
            "() => { const m = [...document.querySelectorAll('#log .msg')][0]; const a = [...document.querySelectorAll('#log .activity')].at(-1); " +
            "return !!m && !!a && !!(m.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING); }"));
        await Screenshots.SaveAsync(admin.Page, "console-timeline");
    }

    [Fact]
    public async Task A_mention_in_a_note_reaches_the_mentioned_agent_with_a_link_to_the_conversation()
    {
        var boId = await fixture.CreateAgentAsync("Bo");
        await using var ann = await ConsolePage.NewAgentAsync(fixture, "Ann");
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("Can someone from billing help?");
        await ann.OpenConversationAsync(conversationId, filter: "mine");
        await using var bo = await ConsolePage.LoginAsync(fixture, boId, BrowserFixture.AgentPassword, ConsolePage.AlertProbe);

        // Typing @ in a note suggests the tenant's agents; Enter picks one (and does not send the note yet).
        await ann.Page.Locator("#mode-note").ClickAsync();
        await ann.Input.PressSequentiallyAsync("@" + boId[..12]);
        var suggestion = ann.Page.Locator($"#mention-suggestions li[data-agent='{boId}']");
        await Expect(suggestion).ToBeVisibleAsync();
        await Expect(suggestion).ToContainTextAsync("Bo");
        await ann.Input.PressAsync("Enter");
        await Expect(ann.Input).ToHaveValueAsync($"@{boId} ");
        await Expect(ann.Page.Locator("#mention-suggestions")).ToBeHiddenAsync();
        await ann.Input.PressSequentiallyAsync("can you check the invoice?");
        await ann.Input.PressAsync("Enter");
        await Expect(ann.Page.Locator("#log .note .mention")).ToHaveTextAsync("@" + boId);

        var notice = bo.Page.Locator("#mention-notice");
        await Expect(notice).ToBeVisibleAsync();
        await Expect(notice).ToContainTextAsync("Ann mentioned you in a note");
        await Expect(notice).ToContainTextAsync("can you check the invoice?");
        Assert.True(await bo.Page.EvaluateAsync<bool>("() => window.__notifications.some(n => n.title === 'Ann mentioned you in a note')"));
        await Screenshots.SaveAsync(bo.Page, "console-mention");
        await notice.Locator("button.mention-open").ClickAsync();
        await Expect(notice).ToBeHiddenAsync();
        await Expect(bo.Page.Locator("#chat-main")).ToBeVisibleAsync();
    }
}
