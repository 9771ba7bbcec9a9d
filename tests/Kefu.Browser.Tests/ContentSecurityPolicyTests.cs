using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// The pages' Content-Security-Policy (console: <c>connect-src 'self'</c>; demo: its own policy) lets the widget and
/// the console work, same-origin WebSockets included, and blocks connections anywhere else.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ContentSecurityPolicyTests(BrowserFixture fixture)
{
    private const string Recorder = """
        window.__csp = [];
        document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
        """;

    [Fact]
    public async Task A_chat_between_the_demo_page_and_the_console_breaks_no_policy_and_other_origins_are_blocked()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: VisitorPage.SocketProbe + Recorder);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.Context.AddInitScriptAsync(Recorder);
        await visitor.Page.ReloadAsync();
        await Expect(visitor.Widget.Locator("button.bubble")).ToBeVisibleAsync();

        var conversationId = await visitor.StartConversationAsync("Is the policy strict?");
        await agent.OpenConversationAsync(conversationId);
        await agent.SendAsync("Strict, and the socket still works.");
        await Expect(visitor.Message("Strict, and the socket still works.")).ToHaveAttributeAsync("data-seq", "2");

        Assert.Empty(await agent.Page.EvaluateAsync<string[]>("() => window.__csp"));
        Assert.Empty(await visitor.Page.EvaluateAsync<string[]>("() => window.__csp"));

        // Anything but the console's own origin is refused by the browser.
        await agent.Page.EvaluateAsync("() => { try { new WebSocket('ws://127.0.0.1:9/elsewhere'); } catch (e) { } }");
        await agent.Page.WaitForFunctionAsync("() => window.__csp.some(v => v.startsWith('connect-src'))");
    }
}
