using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// The console's keyboard shortcuts (issue #18 item 5): next/previous conversation, resolve, reply/note, focus the
/// composer, the conversation switcher, and the list on "?"; one-key shortcuts never fire while the agent types.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ShortcutTests(BrowserFixture fixture)
{
    [Fact]
    public async Task Each_shortcut_does_its_job_and_one_key_ones_stay_quiet_while_typing()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        var tag = Guid.NewGuid().ToString("N")[..5];
        await using var alpha = await VisitorSocket.ConnectAsync(fixture, "Alpha " + tag);
        await alpha.SendAsync("one");
        await using var beta = await VisitorSocket.ConnectAsync(fixture, "Beta " + tag);
        await beta.SendAsync("two");
        await using var gamma = await VisitorSocket.ConnectAsync(fixture, "Gamma " + tag);
        await gamma.SendAsync("three");
        await agent.ShowFilterAsync("mine");
        var items = agent.Page.Locator("#conversation-list li.conv");
        await Expect(items).ToHaveCountAsync(3);
        var names = await agent.Page.Locator("#conversation-list li.conv .conv-name").AllTextContentsAsync();
        var keys = agent.Page.Keyboard;
        var title = agent.Page.Locator("#chat-title");

        // J / K and Alt+↓ / Alt+↑ walk the list.
        await keys.PressAsync("j");
        await Expect(title).ToHaveTextAsync(names[0]);
        await keys.PressAsync("j");
        await Expect(title).ToHaveTextAsync(names[1]);
        await keys.PressAsync("k");
        await Expect(title).ToHaveTextAsync(names[0]);
        await keys.PressAsync("Alt+ArrowDown");
        await Expect(title).ToHaveTextAsync(names[1]);
        await keys.PressAsync("Alt+ArrowDown");
        await Expect(title).ToHaveTextAsync(names[2]);
        await keys.PressAsync("Alt+ArrowUp");
        await Expect(title).ToHaveTextAsync(names[1]);

        // R focuses the composer; there J, K, R and ? are text, while Alt+↑ still moves.
        await keys.PressAsync("r");
        await Expect(agent.Input).ToBeFocusedAsync();
        await keys.TypeAsync("jkr?");
        await Expect(agent.Input).ToHaveValueAsync("jkr?");
        await Expect(title).ToHaveTextAsync(names[1]);
        await Expect(agent.Page.Locator("#shortcut-help")).ToHaveCountAsync(0);
        await keys.PressAsync("Alt+ArrowUp");
        await Expect(title).ToHaveTextAsync(names[0]);
        await agent.Input.FillAsync("");

        // Alt+N switches between reply and internal note, from the composer too.
        await keys.PressAsync("Alt+n");
        await Expect(agent.Page.Locator("#mode-note")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bactive\\b"));
        await Expect(agent.Page.Locator("#composer")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("note-mode"));
        await keys.PressAsync("Alt+n");
        await Expect(agent.Page.Locator("#mode-reply")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\bactive\\b"));

        // Escape leaves the composer, and one-key shortcuts work again.
        await agent.Input.FocusAsync();
        await keys.PressAsync("Escape");
        await Expect(agent.Input).Not.ToBeFocusedAsync();
        await keys.PressAsync("j");
        await Expect(title).ToHaveTextAsync(names[1]);

        // Ctrl+Shift+E resolves the open conversation.
        await keys.PressAsync("Control+Shift+E");
        await Expect(agent.Page.Locator("#reopen-button")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator("#resolve-button")).ToBeHiddenAsync();

        // Ctrl+K (from the composer too) opens the switcher: type to filter by name, Enter opens.
        await agent.Input.FocusAsync();
        await keys.PressAsync("Control+k");
        var switcher = agent.Page.Locator("#conversation-switcher");
        await Expect(switcher).ToBeVisibleAsync();
        await Expect(switcher.Locator("input")).ToBeFocusedAsync();
        await keys.TypeAsync("gamma " + tag);
        await Expect(switcher.Locator("li")).ToHaveCountAsync(1);
        await keys.PressAsync("Enter");
        await Expect(switcher).ToHaveCountAsync(0);
        await Expect(title).ToHaveTextAsync("Gamma " + tag);
        // …and by conversation id.
        await keys.PressAsync("Control+k");
        await keys.TypeAsync(alpha.ConversationId!);
        await Expect(switcher.Locator("li")).ToHaveCountAsync(1);
        await keys.PressAsync("Enter");
        await Expect(title).ToHaveTextAsync("Alpha " + tag);
        // Escape closes it without opening anything.
        await keys.PressAsync("Control+k");
        await Expect(switcher).ToBeVisibleAsync();
        await keys.PressAsync("Escape");
        await Expect(switcher).ToHaveCountAsync(0);

        // ? lists every shortcut; Escape closes the list.
        await agent.Page.EvaluateAsync("() => document.activeElement && document.activeElement.blur()");
        await keys.PressAsync("?");
        var help = agent.Page.Locator("#shortcut-help");
        await Expect(help).ToBeVisibleAsync();
        await Expect(help.Locator("tr[data-shortcut]")).ToHaveCountAsync(8);
        await Expect(help.Locator("tr[data-shortcut='resolve'] kbd")).ToHaveTextAsync("Ctrl+Shift+E");
        await Expect(help.Locator("tr[data-shortcut='switcher'] kbd")).ToHaveTextAsync("Ctrl+K");
        await Screenshots.SaveAsync(agent.Page, "console-shortcuts");
        await keys.PressAsync("Escape");
        await Expect(help).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_chinese_agent_gets_the_shortcut_list_and_the_emoji_labels_in_chinese()
    {
        var agentId = await fixture.CreateAgentAsync("王芳");
        await using var context = await fixture.NewContextAsync("zh-CN");
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/");
        await page.Locator("#login-username").FillAsync(agentId);
        await page.Locator("#login-password").FillAsync(BrowserFixture.AgentPassword);
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page.Locator("#app")).ToBeVisibleAsync();
        await Expect(page.Locator("#composer button.emoji-button")).ToHaveAttributeAsync("aria-label", "插入表情");
        await page.EvaluateAsync("() => document.activeElement && document.activeElement.blur()");
        await page.Keyboard.PressAsync("?");
        var help = page.Locator("#shortcut-help");
        await Expect(help.Locator("h2")).ToHaveTextAsync("键盘快捷键");
        await Expect(help.Locator("tr[data-shortcut='next'] td").Last).ToHaveTextAsync("下一个会话");
        await page.Keyboard.PressAsync("Escape");
        await Expect(help).ToHaveCountAsync(0);
    }
}
