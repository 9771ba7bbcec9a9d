using System.Net;
using System.Net.Http.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// The composer on both sides (issue #18 item 4): the emoji picker, pasted and dropped images, retry and discard of a
/// failed message, and the console's canned replies with variables and search by content.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ComposerTests(BrowserFixture fixture)
{
    /// <summary>A 4×4 red PNG.</summary>
    private const string Png = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg==";

    /// <summary>An executable dressed as a PNG: the server refuses it.</summary>
    private const string Disguised = "TVoAAAECAwQ=";

    // A paste or a drop of one file, as the browser delivers them (a DataTransfer with the file), on the element found
    // by the selector (inside the widget's shadow root when widget is true).
    private const string Deliver = """
        ([kind, widget, selector, b64, name, type]) => {
          const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], name, { type }));
          const root = widget ? document.querySelector('#kefu-widget').shadowRoot : document;
          const target = root.querySelector(selector);
          const ev = kind === 'paste'
            ? new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true, composed: true })
            : new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true, composed: true });
          target.dispatchEvent(ev);
          return ev.defaultPrevented;
        }
        """;

    [Fact]
    public async Task An_emoji_picked_with_the_keyboard_or_the_mouse_goes_in_at_the_caret_on_both_sides()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("Emoji, please");

        // The visitor, by keyboard: the button opens the panel on the first emoji, an arrow moves, Enter inserts.
        await visitor.Input.FillAsync("Hello world");
        await visitor.Input.EvaluateAsync("t => t.setSelectionRange(5, 5)");
        var button = visitor.Widget.Locator("button.emoji-button");
        await Expect(button).ToHaveAttributeAsync("aria-expanded", "false");
        await button.FocusAsync();
        await visitor.Page.Keyboard.PressAsync("Enter");
        var panel = visitor.Widget.Locator(".emoji-panel");
        await Expect(panel).ToBeVisibleAsync();
        await Expect(button).ToHaveAttributeAsync("aria-expanded", "true");
        await Expect(panel.Locator("button.emoji").First).ToBeFocusedAsync();
        await visitor.Page.Keyboard.PressAsync("ArrowRight");
        await visitor.Page.Keyboard.PressAsync("Enter");
        await Expect(panel).ToBeHiddenAsync();
        await Expect(visitor.Input).ToHaveValueAsync("Hello😃 world");
        await Expect(visitor.Input).ToBeFocusedAsync();
        // Escape closes the panel and gives the focus back to its button.
        await button.ClickAsync();
        await Expect(panel).ToBeVisibleAsync();
        await Screenshots.SaveAsync(visitor.Page, "widget-emoji");
        await visitor.Page.Keyboard.PressAsync("Escape");
        await Expect(panel).ToBeHiddenAsync();
        await Expect(button).ToBeFocusedAsync();
        await visitor.Input.PressAsync("End");
        await visitor.Input.PressAsync("Enter");

        await agent.OpenConversationAsync(conversationId);
        await Expect(agent.Message("Hello😃 world")).ToBeVisibleAsync();

        // The agent, by mouse, in the middle of a reply.
        await agent.Input.FillAsync("Thanks !");
        await agent.Input.EvaluateAsync("t => t.setSelectionRange(6, 6)");
        await agent.Page.Locator("#composer button.emoji-button").ClickAsync();
        await agent.Page.Locator("#composer .emoji-panel button[data-emoji='👍']").ClickAsync();
        await Expect(agent.Input).ToHaveValueAsync("Thanks👍 !");
        await agent.Input.PressAsync("Enter");
        await Expect(visitor.Message("Thanks👍 !")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(agent.Page, "console-emoji");
    }

    [Fact]
    public async Task A_pasted_image_and_a_dropped_image_are_previewed_uploaded_and_seen_on_the_other_side()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("Look at this");

        // The visitor pastes a screenshot; the upload is held so the preview can be seen while it is on its way.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await visitor.Context.RouteAsync("**/attachments", async route => { await release.Task; await route.ContinueAsync(); });
        Assert.True(await visitor.Page.EvaluateAsync<bool>(Deliver, new object[] { "paste", true, "form.composer textarea", Png, "pasted.png", "image/png" }));
        var preview = visitor.Widget.Locator(".paste-preview");
        await Expect(preview.Locator("img.paste-thumb")).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("^data:image/png;base64,"));
        await Expect(preview.Locator("progress")).ToBeVisibleAsync();
        release.SetResult();
        await Expect(preview).ToHaveCountAsync(0);
        await Expect(visitor.Widget.Locator(".log .msg.mine img.thumb")).ToHaveAttributeAsync("alt", "pasted.png");
        await Expect(visitor.Widget.Locator(".log .msg:has(img.thumb)")).ToHaveAttributeAsync("data-state", "sent");

        await agent.OpenConversationAsync(conversationId);
        await Expect(agent.Page.Locator("#log .msg.visitor img.thumb")).ToHaveAttributeAsync("alt", "pasted.png");

        // The agent drops an image on the chat: the visitor sees it.
        Assert.True(await agent.Page.EvaluateAsync<bool>(Deliver, new object[] { "drop", false, "#log", Png, "dropped.png", "image/png" }));
        await Expect(agent.Page.Locator("#log .msg.mine img.thumb")).ToHaveAttributeAsync("alt", "dropped.png");
        await Expect(visitor.Widget.Locator(".log .msg.theirs img.thumb")).ToHaveAttributeAsync("alt", "dropped.png");
        await Expect(agent.Page.Locator(".paste-preview")).ToHaveCountAsync(0);

        // While writing an internal note a pasted image is refused: notes carry no files, and it must not reach the visitor.
        await agent.Page.Locator("#mode-note").ClickAsync();
        Assert.True(await agent.Page.EvaluateAsync<bool>(Deliver, new object[] { "paste", false, "#composer-input", Png, "private.png", "image/png" }));
        await Expect(agent.Page.Locator("#composer .paste-error")).ToContainTextAsync("Internal notes cannot carry files");
        await agent.Page.Locator("#mode-reply").ClickAsync();
        await Expect(agent.Page.Locator("#log img.thumb[alt='private.png']")).ToHaveCountAsync(0);

        // A file the server refuses says why, on both sides, and leaves no preview behind.
        await visitor.Page.EvaluateAsync<bool>(Deliver, new object[] { "paste", true, "form.composer textarea", Disguised, "cat.png", "image/png" });
        await Expect(visitor.Widget.Locator(".upload.error")).ToContainTextAsync("This type of file is not allowed.");
        await agent.Page.EvaluateAsync<bool>(Deliver, new object[] { "drop", false, "#log", Disguised, "dog.png", "image/png" });
        await Expect(agent.Page.Locator("#toast.error")).ToContainTextAsync("dog.png: this type of file is not allowed.");
        await Expect(visitor.Widget.Locator(".paste-preview")).ToHaveCountAsync(0);
        await Expect(agent.Page.Locator(".paste-preview")).ToHaveCountAsync(0);

        // Text pasted from a document stays a text paste.
        Assert.False(await visitor.Page.EvaluateAsync<bool>("""
            () => { const dt = new DataTransfer(); dt.setData('text/plain', 'just text');
                    const ta = document.querySelector('#kefu-widget').shadowRoot.querySelector('form.composer textarea');
                    const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
                    ta.dispatchEvent(ev); return ev.defaultPrevented; }
            """));
    }

    [Fact]
    public async Task A_failed_message_in_the_widget_has_retry_and_discard_like_the_console()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.Context.RouteAsync("**/api/v1/visitors", route => route.FulfillAsync(new() { Status = 503 }));
        await visitor.SendAsync("will be discarded");
        var discarded = visitor.Message("will be discarded");
        await Expect(discarded).ToHaveAttributeAsync("data-state", "failed");
        await discarded.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await Expect(discarded).ToHaveCountAsync(0);

        await visitor.SendAsync("will be retried");
        var retried = visitor.Message("will be retried");
        await Expect(retried).ToHaveAttributeAsync("data-state", "failed");
        await visitor.Context.UnrouteAllAsync();
        await retried.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(retried).ToHaveAttributeAsync("data-seq", "1");
        await Expect(retried.GetByRole(AriaRole.Button, new() { Name = "Retry" })).ToHaveCountAsync(0);
        await Expect(visitor.Widget.Locator(".log .msg.mine")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Canned_replies_are_found_by_their_content_and_their_variables_are_filled_when_inserted()
    {
        var unique = Guid.NewGuid().ToString("N")[..8];
        using (var admin = await fixture.AdminHttpAsync())
        {
            var created = await admin.PostAsJsonAsync("/api/v1/canned-replies", new
            {
                shortcut = "ship" + unique,
                text = "Hi {{contact.name}} ({{contact.email}}), {{agent.name}} here: your parcel" + unique + " for {{conversation.id}} left today.{{unknown.thing}}{{ constructor }}{{__proto__}}",
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var agent = await ConsolePage.NewAgentAsync(fixture, displayName: "Mei Lin");
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Ada Lovelace", "ada@example.com");
        await visitor.SendAsync("Where is my parcel?");
        await agent.OpenConversationAsync(visitor.ConversationId!, filter: "mine");
        await Expect(agent.Detail("Email")).ToHaveTextAsync("ada@example.com");

        // Searched by words of its text, not its shortcut.
        await agent.Input.FillAsync("/parcel" + unique + " left");
        var suggestion = agent.Page.Locator("#canned-suggestions li");
        await Expect(suggestion).ToHaveCountAsync(1);
        await Expect(suggestion).ToHaveAttributeAsync("data-shortcut", "ship" + unique);
        await agent.Input.PressAsync("Enter");
        var expected = $"Hi Ada Lovelace (ada@example.com), Mei Lin here: your parcel{unique} for {visitor.ConversationId} left today.";
        await Expect(agent.Input).ToHaveValueAsync(expected);
        await Expect(agent.Page.Locator("#canned-suggestions")).ToBeHiddenAsync();
        await agent.Input.PressAsync("Enter");
        await Expect(agent.Message(expected)).ToHaveAttributeAsync("data-state", "sent");

        // By shortcut still, typed in full and sent at once.
        await agent.Input.FillAsync("/ship" + unique);
        await Expect(suggestion).ToHaveCountAsync(1);
        await agent.Page.Keyboard.PressAsync("Escape");
        await Expect(agent.Page.Locator("#canned-suggestions")).ToBeHiddenAsync();
        await agent.Page.Locator("#send-button").ClickAsync();
        await Expect(agent.Page.Locator("#log .msg.mine").Filter(new() { HasText = expected })).ToHaveCountAsync(2);
    }
}
