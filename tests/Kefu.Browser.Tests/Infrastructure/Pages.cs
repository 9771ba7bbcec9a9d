using System.Text.Json;

namespace Kefu.Browser.Tests.Infrastructure;

/// <summary>A message as a page shows it: its seq (null while unacked), text and delivery state.</summary>
public sealed record Shown(long? Seq, string Text, string? State);

/// <summary>A visitor on the demo page, using the widget as a person would (clicks and keys).</summary>
public sealed class VisitorPage : IAsyncDisposable
{
    /// <summary>
    /// Records a page's WebSockets so a test can cut them (<c>window.__kefuCut()</c>), and can swallow acks (a lost ack
    /// after a stored send). The widget always has it; give it to <see cref="ConsolePage"/> as its init script.
    /// </summary>
    public const string SocketProbe = """
        (() => {
          const Native = window.WebSocket;
          window.__kefuSockets = [];
          window.__kefuDropAcks = false;
          class ProbedSocket extends Native {
            constructor(url, protocols) { super(url, protocols); window.__kefuSockets.push(this); }
            set onmessage(fn) {
              super.onmessage = fn && (ev => {
                if (window.__kefuDropAcks) { try { if (JSON.parse(ev.data).type === 'ack') return; } catch (e) { } }
                fn.call(this, ev);
              });
            }
            get onmessage() { return super.onmessage; }
          }
          window.WebSocket = ProbedSocket;
          window.__kefuCut = () => { const s = window.__kefuSockets; window.__kefuSockets = []; s.forEach(x => x.close()); return s.length; };
        })();
        """;

    private VisitorPage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
        Widget = page.Locator("#kefu-widget");
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public ILocator Widget { get; }

    public ILocator Input => Widget.Locator("form.composer textarea");

    public static async Task<VisitorPage> OpenAsync(BrowserFixture fixture, string locale = "en-US", string path = "/demo")
    {
        var context = await fixture.NewContextAsync(locale);
        await context.AddInitScriptAsync(SocketProbe);
        var page = await context.NewPageAsync();
        var visitor = new VisitorPage(context, page);
        await page.GotoAsync(path);
        await Expect(visitor.Widget.Locator("button.bubble")).ToBeVisibleAsync();
        return visitor;
    }

    public async Task OpenPanelAsync()
    {
        await Widget.Locator("button.bubble").ClickAsync();
        await Expect(Widget.Locator("section.panel")).ToBeVisibleAsync();
    }

    public async Task SendAsync(string text)
    {
        await Input.FillAsync(text);
        await Input.PressAsync("Enter");
    }

    /// <summary>Opens the panel, sends a first message, waits until it is stored; the new conversation's id.</summary>
    public async Task<string> StartConversationAsync(string text)
    {
        await OpenPanelAsync();
        await SendAsync(text);
        await Expect(Message(text)).ToHaveAttributeAsync("data-state", "sent");
        return await ConversationIdAsync();
    }

    public ILocator Message(string text) => Widget.Locator(".log .msg").Filter(new LocatorFilterOptions { HasText = text });

    public Task<Shown[]> MessagesAsync() => ShownAsync(Page, """
        () => [...document.querySelector('#kefu-widget').shadowRoot.querySelectorAll('.log .msg')].map(m => ({
          seq: m.dataset.seq ? Number(m.dataset.seq) : null, text: m.querySelector('.text').textContent, state: m.dataset.state || null }))
        """);

    public async Task<string> ConversationIdAsync()
    {
        var id = await Page.EvaluateAsync<string?>("""
            () => { const k = Object.keys(localStorage).find(x => x.startsWith('kefu.widget.'));
                    return k ? JSON.parse(localStorage.getItem(k)).conversationId || null : null; }
            """);
        return id ?? throw new InvalidOperationException("The widget has no conversation yet.");
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();

    internal static async Task<Shown[]> ShownAsync(IPage page, string script)
    {
        var json = await page.EvaluateAsync<JsonElement>(script);
        return [.. json.EnumerateArray().Select(e => new Shown(
            e.GetProperty("seq").ValueKind == JsonValueKind.Number ? e.GetProperty("seq").GetInt64() : null,
            e.GetProperty("text").GetString()!,
            e.GetProperty("state").ValueKind == JsonValueKind.String ? e.GetProperty("state").GetString() : null))];
    }
}

/// <summary>An agent in the console.</summary>
public sealed class ConsolePage : IAsyncDisposable
{
    private ConsolePage(IBrowserContext context, IPage page)
    {
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public ILocator Input => Page.Locator("#composer-input");

    /// <summary>Records desktop notifications and sounds instead of showing and playing them.</summary>
    public const string AlertProbe = """
        (() => {
          window.__notifications = [];
          window.Notification = class {
            constructor(title, options) { window.__notifications.push({ title, body: (options || {}).body }); }
            static get permission() { return 'granted'; }
            static requestPermission() { return Promise.resolve('granted'); }
            close() { }
          };
          window.__beeps = 0;
          const Native = window.AudioContext;
          window.AudioContext = class extends Native { createOscillator() { window.__beeps++; return super.createOscillator(); } };
        })();
        """;

    public static async Task<ConsolePage> OpenAsync(BrowserFixture fixture, string? initScript = null)
    {
        var context = await fixture.NewContextAsync();
        if (initScript is not null)
        {
            await context.AddInitScriptAsync(initScript);
        }

        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/");
        await Expect(page.Locator("#login-form")).ToBeVisibleAsync();
        return new ConsolePage(context, page);
    }

    public static async Task<ConsolePage> LoginAsync(
        BrowserFixture fixture, string username = "admin", string password = BrowserFixture.AdminPassword, string? initScript = null)
    {
        var console = await OpenAsync(fixture, initScript);
        await console.SubmitLoginAsync(username, password);
        await Expect(console.Page.Locator("#app")).ToBeVisibleAsync();
        await Expect(console.Page.Locator("#connection")).ToHaveClassAsync("connection online");
        return console;
    }

    /// <summary>A new agent, signed in and connected (so online: the inbox is available and conversations come to it).</summary>
    public static async Task<ConsolePage> NewAgentAsync(BrowserFixture fixture, string displayName = "Mei", int capacity = 50, string? initScript = null) =>
        await LoginAsync(fixture, await fixture.CreateAgentAsync(displayName, capacity), BrowserFixture.AgentPassword, initScript);

    public async Task SubmitLoginAsync(string username, string password)
    {
        await Page.Locator("#login-username").FillAsync(username);
        await Page.Locator("#login-password").FillAsync(password);
        await Page.Locator("#login-submit").ClickAsync();
    }

    /// <summary>Closes the console's WebSockets; needs <see cref="VisitorPage.SocketProbe"/> as the init script.</summary>
    public async Task CutSocketsAsync() => Assert.True(await Page.EvaluateAsync<int>("() => window.__kefuCut()") > 0);

    /// <summary>Reloads the page: the session is kept, the app comes back connected.</summary>
    public async Task ReloadAsync()
    {
        await Page.ReloadAsync();
        await Expect(Page.Locator("#app")).ToBeVisibleAsync();
        await Expect(Page.Locator("#connection")).ToHaveClassAsync("connection online");
    }

    public async Task ShowAdminAsync(string view)
    {
        var button = Page.Locator($"#nav button[data-view='{view}']");
        if (!await button.IsVisibleAsync())
        {
            await Page.Locator("#nav-integrations > summary").ClickAsync(); // views under the Integrations menu
        }

        await button.ClickAsync();
        await Expect(Page.Locator($"#view-{view}")).ToBeVisibleAsync();
    }

    /// <summary>Clicks a button that asks for confirmation, and confirms (Playwright would otherwise dismiss it).</summary>
    public async Task ClickAndConfirmAsync(ILocator button, string question)
    {
        var asked = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Confirm(object? sender, IDialog dialog)
        {
            asked.TrySetResult(dialog.Message);
            _ = dialog.AcceptAsync();
        }

        Page.Dialog += Confirm;
        try
        {
            await button.ClickAsync();
            Assert.Equal(question, await asked.Task.WaitAsync(TimeSpan.FromSeconds(15)));
        }
        finally
        {
            Page.Dialog -= Confirm;
        }
    }

    /// <summary>A conversation's entry in the list (the list shows only those matching the filter).</summary>
    public ILocator ListItem(string conversationId) => Page.Locator($"li.conv[data-id='{conversationId}']");

    public async Task ShowFilterAsync(string filter)
    {
        var button = Page.Locator($".filters button[data-filter='{filter}']");
        await button.ClickAsync();
        await Expect(button).ToHaveAttributeAsync("aria-selected", "true");
    }

    /// <summary>Lists one team's conversations with the team filter (it clears the filter buttons).</summary>
    public async Task ShowTeamAsync(string teamId)
    {
        await Page.Locator("#team-filter").SelectOptionAsync(teamId);
        await Expect(Page.Locator(".filters button[aria-selected='false']")).ToHaveCountAsync(5);
    }

    /// <summary>Transfers the open conversation with the transfer control: target is "agent:{id}" or "team:{id}".</summary>
    public async Task TransferAsync(string target)
    {
        await Expect(Page.Locator($"#transfer-target option[value='{target}']")).ToHaveCountAsync(1);
        await Page.Locator("#transfer-target").SelectOptionAsync(target);
        await Page.Locator("#transfer-form button").ClickAsync();
    }

    /// <summary>A value in the open conversation's details pane.</summary>
    public ILocator Detail(string label) => Page.Locator($"xpath=//dl[@id='details-list']/dt[.='{label}']/following-sibling::dd[1]");

    public async Task OpenConversationAsync(string conversationId, string filter = "all")
    {
        await Page.Locator($".filters button[data-filter='{filter}']").ClickAsync();
        var item = ListItem(conversationId);
        await Expect(item).ToBeVisibleAsync();
        await item.ClickAsync();
        await Expect(Page.Locator("#chat-main")).ToBeVisibleAsync();
    }

    public async Task OpenConversationByNameAsync(string visitorName, string filter = "all")
    {
        await Page.Locator($".filters button[data-filter='{filter}']").ClickAsync();
        var item = Page.Locator("li.conv").Filter(new LocatorFilterOptions { Has = Page.Locator(".conv-name", new PageLocatorOptions { HasText = visitorName }) });
        await Expect(item).ToHaveCountAsync(1);
        await item.ClickAsync();
        await Expect(Page.Locator("#chat-title")).ToHaveTextAsync(visitorName);
    }

    public async Task SendAsync(string text)
    {
        await Input.FillAsync(text);
        await Input.PressAsync("Enter");
    }

    public ILocator Message(string text) => Page.Locator("#log .msg").Filter(new LocatorFilterOptions { HasText = text });

    public Task<Shown[]> MessagesAsync() => VisitorPage.ShownAsync(Page, """
        () => [...document.querySelectorAll('#log .msg')].map(m => ({
          seq: m.dataset.seq ? Number(m.dataset.seq) : null, text: m.querySelector('.text').textContent, state: m.dataset.state || null }))
        """);

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
