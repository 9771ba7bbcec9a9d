using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

[Collection(BrowserCollection.Name)]
public sealed class SafetyTests(BrowserFixture fixture)
{
    private const string Payload = "<img src=x onerror=window.__xss=1><script>window.__xss=2</script>";

    [Fact]
    public async Task Markup_in_messages_is_shown_as_text_and_never_runs()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync(Payload);
        await Expect(visitor.Message(Payload)).ToHaveAttributeAsync("data-state", "sent");

        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());
        var inConsole = agent.Page.Locator("#log .msg[data-seq='1'] .text");
        await Expect(inConsole).ToHaveTextAsync(Payload);
        await Expect(agent.Page.Locator("#conversation-list")).ToContainTextAsync(Payload); // the list preview, too
        await agent.SendAsync("You wrote: " + Payload);
        await Expect(visitor.Message("You wrote: " + Payload)).ToHaveAttributeAsync("data-seq", "2");
        await agent.Page.WaitForTimeoutAsync(500); // an injected image would have errored by now

        Assert.Equal(Payload, await inConsole.TextContentAsync());
        Assert.Equal(0, await agent.Page.Locator("#log img, #log script, #conversation-list img").CountAsync());
        Assert.Equal(0, await visitor.Widget.Locator(".log img, .log script").CountAsync());
        Assert.Equal([Payload, "You wrote: " + Payload], (await visitor.MessagesAsync()).Select(m => m.Text));
        Assert.True(await agent.Page.EvaluateAsync<bool>("() => window.__xss === undefined"));
        Assert.True(await visitor.Page.EvaluateAsync<bool>("() => window.__xss === undefined"));
    }

    [Fact]
    public async Task A_failed_login_is_shown_and_a_correct_one_opens_the_console()
    {
        await using var agent = await ConsolePage.OpenAsync(fixture);
        await agent.SubmitLoginAsync("admin", "not-the-password");
        await Expect(agent.Page.Locator("#login-error")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator("#login-error")).ToHaveTextAsync("Wrong username or password.");
        await Expect(agent.Page.Locator("#app")).ToBeHiddenAsync();
        await Screenshots.SaveAsync(agent.Page, "console-login-failed");

        await agent.SubmitLoginAsync("admin", BrowserFixture.AdminPassword);
        await Expect(agent.Page.Locator("#app")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator("#login")).ToBeHiddenAsync();
        await Expect(agent.Page.Locator("#me-name")).ToHaveTextAsync("Administrator");
    }
}
