using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Kefu.Browser.Tests;

/// <summary>
/// The widget and the console share one client module (/kefu-client.js: connect, resume by sync, the ordered outbox,
/// reconnect) instead of two copies; messages show by their content kind, and a file goes as attachment content.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class SharedClientTests(BrowserFixture fixture)
{
    /// <summary>A 4×4 red PNG.</summary>
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg==");

    /// <summary>Records every frame the page sends on any WebSocket (patched on the prototype: existing sockets too).</summary>
    private const string RecordSends = """
        () => {
          window.__sent = [];
          const send = WebSocket.prototype.send;
          WebSocket.prototype.send = function (data) { window.__sent.push(String(data)); return send.call(this, data); };
        }
        """;

    /// <summary>Hands the page's newest socket a server frame, as if the gateway had sent it.</summary>
    private const string Deliver = """
        frame => { const s = window.__kefuSockets[window.__kefuSockets.length - 1]; s.onmessage({ data: JSON.stringify(frame) }); }
        """;

    [Fact]
    public async Task The_widget_and_the_console_load_the_one_shared_client_module_and_keep_no_socket_code_of_their_own()
    {
        // The widget (one classic script tag) imports the module from its own origin...
        var visitorContext = await fixture.NewContextAsync();
        await using (visitorContext)
        {
            var page = await visitorContext.NewPageAsync();
            var module = page.WaitForRequestAsync("**/kefu-client.js");
            await page.GotoAsync("/demo");
            Assert.Equal(fixture.BaseUri.GetLeftPart(UriPartial.Authority) + "/kefu-client.js", (await module).Url);
            await Expect(page.Locator("#kefu-widget button.bubble")).ToBeVisibleAsync();
        }

        // ...and so does the console (an ES module itself).
        var consoleContext = await fixture.NewContextAsync();
        await using (consoleContext)
        {
            var page = await consoleContext.NewPageAsync();
            var module = page.WaitForRequestAsync("**/kefu-client.js");
            await page.GotoAsync("/console/");
            Assert.Equal(fixture.BaseUri.GetLeftPart(UriPartial.Authority) + "/kefu-client.js", (await module).Url);
            await Expect(page.Locator("#login-form")).ToBeVisibleAsync();
        }

        // The socket, sync and send code lives in the module only.
        using var http = new HttpClient { BaseAddress = fixture.BaseUri };
        var shared = await http.GetStringAsync("/kefu-client.js");
        Assert.Contains("new WebSocket(", shared, StringComparison.Ordinal);
        Assert.Contains("type: 'sync'", shared, StringComparison.Ordinal);
        Assert.Contains("type: 'send'", shared, StringComparison.Ordinal);
        foreach (var page in new[] { "/widget.js", "/console/app.js" })
        {
            var source = await http.GetStringAsync(page);
            Assert.DoesNotContain("new WebSocket(", source, StringComparison.Ordinal);
            Assert.DoesNotContain("type: 'sync'", source, StringComparison.Ordinal);
            Assert.DoesNotContain("type: 'send'", source, StringComparison.Ordinal);
            Assert.DoesNotContain("[attachment:", source, StringComparison.Ordinal);
        }

        // Another site's page may import it (a module from another origin loads only with CORS).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/kefu-client.js");
        request.Headers.Add("Origin", "http://shop.example");
        using var response = await http.SendAsync(request);
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_uploaded_file_is_sent_as_attachment_content_and_both_pages_show_messages_by_their_content_kind()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: VisitorPage.SocketProbe);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("a picture follows");
        await visitor.Page.EvaluateAsync(RecordSends);

        await visitor.Widget.Locator("form.composer input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "screen.png", MimeType = "image/png", Buffer = Png });
        await Expect(visitor.Widget.Locator(".log .msg:has(img.thumb)")).ToHaveAttributeAsync("data-seq", "2");

        // The send frame names the upload as typed content; the legacy text goes along for servers that do not read it.
        var sends = (await visitor.Page.EvaluateAsync<string[]>("() => window.__sent"))
            .Select(f => JsonDocument.Parse(f).RootElement).Where(f => f.GetProperty("type").GetString() == "send").ToArray();
        var send = Assert.Single(sends);
        var content = send.GetProperty("content");
        Assert.Equal("attachment", content.GetProperty("kind").GetString());
        var attachmentId = content.GetProperty("attachmentId").GetString()!;
        Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", attachmentId);
        Assert.Equal($"[attachment:{attachmentId}:image/png] screen.png", send.GetProperty("text").GetString());

        await agent.OpenConversationAsync(conversationId);
        await Expect(agent.Page.Locator("#log .msg[data-seq='2'] img.thumb")).ToHaveAttributeAsync("alt", "screen.png");

        // Messages as a server with typed content sends them: an attachment whose text is only its name shows the
        // file; a text message whose text merely looks like the old attachment form stays text.
        object Attachment(long seq, string role) => new
        {
            type = "message", conversationId, messageId = $"m{seq}", seq, ts = DateTimeOffset.UtcNow.ToString("O"),
            sender = new { role, id = role, name = role }, text = "screen.png",
            content = new { kind = "attachment", attachmentId, contentType = "image/png", name = "screen.png", size = Png.Length },
        };
        object LooksLikeOne(long seq, string role) => new
        {
            type = "message", conversationId, messageId = $"m{seq}", seq, ts = DateTimeOffset.UtcNow.ToString("O"),
            sender = new { role, id = role, name = role }, text = $"[attachment:{attachmentId}:image/png] just text",
            content = new { kind = "text" },
        };

        await agent.Page.EvaluateAsync(Deliver, Attachment(3, "visitor"));
        await agent.Page.EvaluateAsync(Deliver, LooksLikeOne(4, "visitor"));
        var typed = agent.Page.Locator("#log .msg[data-seq='3']");
        await Expect(typed).ToHaveAttributeAsync("data-kind", "attachment");
        await LoadedAsync(typed.Locator("img.thumb"));
        var plain = agent.Page.Locator("#log .msg[data-seq='4']");
        await Expect(plain).ToHaveAttributeAsync("data-kind", "text");
        await Expect(plain.Locator(".text")).ToHaveTextAsync($"[attachment:{attachmentId}:image/png] just text");

        await visitor.Page.EvaluateAsync(Deliver, Attachment(3, "agent"));
        await visitor.Page.EvaluateAsync(Deliver, LooksLikeOne(4, "agent"));
        var shown = visitor.Widget.Locator(".log .msg[data-seq='3']");
        await Expect(shown).ToHaveAttributeAsync("data-kind", "attachment");
        await LoadedAsync(shown.Locator("img.thumb"));
        var text = visitor.Widget.Locator(".log .msg[data-seq='4']");
        await Expect(text).ToHaveAttributeAsync("data-kind", "text");
        await Expect(text.Locator(".text")).ToHaveTextAsync($"[attachment:{attachmentId}:image/png] just text");
        await Expect(text.Locator("img, a")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task After_a_dropped_socket_the_widget_and_the_console_resume_and_show_the_files_sent_meanwhile()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: VisitorPage.SocketProbe);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("hello");
        await agent.OpenConversationAsync(conversationId);
        await Expect(agent.Message("hello")).ToHaveAttributeAsync("data-seq", "1");

        // The console's socket drops; the visitor sends a picture meanwhile. Back, the console syncs and shows it.
        await agent.Context.SetOfflineAsync(true);
        await agent.CutSocketsAsync();
        await Expect(agent.Page.Locator("#connection")).ToHaveClassAsync("connection offline");
        await visitor.Widget.Locator("form.composer input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "meanwhile.png", MimeType = "image/png", Buffer = Png });
        await Expect(visitor.Widget.Locator(".log .msg:has(img.thumb)")).ToHaveAttributeAsync("data-seq", "2");
        await agent.Context.SetOfflineAsync(false);
        await Expect(agent.Page.Locator("#connection")).ToHaveClassAsync("connection online");
        var picture = agent.Page.Locator("#log .msg[data-seq='2']");
        await Expect(picture).ToHaveAttributeAsync("data-kind", "attachment");
        await LoadedAsync(picture.Locator("img.thumb"));

        // The widget's socket drops; the agent sends a file meanwhile. Back, the widget syncs and offers the download.
        await visitor.Context.SetOfflineAsync(true);
        await visitor.Page.EvaluateAsync("() => window.__kefuCut()");
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeVisibleAsync();
        await agent.Page.Locator("#attach-input").SetInputFilesAsync(
            new FilePayload { Name = "steps.txt", MimeType = "text/plain", Buffer = "1. restart\n"u8.ToArray() });
        await Expect(agent.Page.Locator("#log .msg[data-seq='3'] a.file")).ToHaveTextAsync("\U0001F4CE steps.txt");
        await visitor.Context.SetOfflineAsync(false);
        var file = visitor.Widget.Locator(".log .msg[data-seq='3']");
        await Expect(file).ToHaveAttributeAsync("data-kind", "attachment");
        await Expect(file.Locator("a.file")).ToHaveTextAsync("\U0001F4CE steps.txt");
        await Expect(file.Locator("a.file")).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex(@"\?exp=\d+&sig="));
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeHiddenAsync();

        Assert.Equal([1L, 2, 3], (await visitor.MessagesAsync()).Select(m => m.Seq!.Value));
        Assert.Equal([1L, 2, 3], (await agent.MessagesAsync()).Select(m => m.Seq!.Value));
    }

    /// <summary>The image was fetched (through its signed link) and decoded: 4 pixels wide.</summary>
    private static async Task LoadedAsync(ILocator image)
    {
        await Expect(image).ToHaveCountAsync(1);
        await image.Page.WaitForFunctionAsync(
            "img => img.complete && img.naturalWidth === 4", await image.ElementHandleAsync(), new() { Timeout = 15_000 });
    }
}
