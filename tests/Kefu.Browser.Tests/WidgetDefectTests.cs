using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// Defects of the visitor widget found by a new user and an outside probe (issues #11 and #12): order under the frame
/// limit, a left message that comes back, a refused token, an unknown inbox key, phones, small visible ones.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class WidgetDefectTests(BrowserFixture fixture)
{
    /// <summary>More messages than <c>Kefu:WebSocket:FrameBurst</c> (60) allows frames for.</summary>
    private const int Burst = 80;

    /// <summary>Types and submits each text as a person would (input events, Enter), all in one task: the fastest typist.</summary>
    private const string TypeBurst = """
        texts => {
          const input = document.querySelector('#kefu-widget').shadowRoot.querySelector('form.composer textarea');
          for (const text of texts) {
            input.value = text;
            input.dispatchEvent(new Event('input', { bubbles: true }));
            input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
          }
        }
        """;

    [Fact]
    public async Task A_burst_beyond_the_frame_limit_is_stored_and_shown_in_typed_order()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.StartConversationAsync("hello"); // connected, in a conversation: typing frames count too
        var typed = Enumerable.Range(1, Burst).Select(i => $"burst {i:00}").ToArray();
        await visitor.Page.EvaluateAsync(TypeBurst, typed[..70]);
        // A moment later (the limiter has refilled a few frames, the refused ones wait for their retry) the rest.
        await visitor.Page.WaitForTimeoutAsync(500);
        await visitor.Page.EvaluateAsync(TypeBurst, typed[70..]);

        await Expect(visitor.Widget.Locator(".log .msg.mine[data-seq]")).ToHaveCountAsync(Burst + 1, new() { Timeout = 60_000 });
        var shown = (await visitor.MessagesAsync()).Where(m => m.Text.StartsWith("burst ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(typed, shown.Select(m => m.Text));
        Assert.Equal(shown.Select(m => m.Seq).Order(), shown.Select(m => m.Seq));

        using var admin = await fixture.AdminHttpAsync();
        var stored = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{await visitor.ConversationIdAsync()}/messages?limit=500");
        var texts = stored.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString())
            .Where(t => t!.StartsWith("burst ", StringComparison.Ordinal));
        Assert.Equal(typed, texts);
    }

    [Fact]
    public async Task A_left_message_comes_back_after_a_reload_with_the_agents_reply_and_no_email_is_promised()
    {
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        var form = visitor.Widget.Locator("form.offline");
        await Expect(form).ToBeVisibleAsync();
        await form.Locator("input[name=name]").FillAsync("Ruth");
        await form.Locator("input[name=email]").FillAsync("ruth@example.com");
        await form.Locator("textarea[name=text]").FillAsync("My parcel never arrived.");
        await form.Locator("button[type=submit]").ClickAsync();
        var notice = visitor.Widget.Locator("p.left");
        await Expect(notice).ToContainTextAsync("Thank you");
        Assert.DoesNotContain("email", await notice.TextContentAsync() ?? "", StringComparison.OrdinalIgnoreCase);
        await Expect(visitor.Message("My parcel never arrived.")).ToHaveAttributeAsync("data-seq", "1");

        // The visitor has a token like any other: its profile carries the name and email for the agents.
        var token = await visitor.Page.EvaluateAsync<string>("""
            () => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('kefu.widget.')))).token
            """);
        using (var http = new HttpClient { BaseAddress = fixture.BaseUri })
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var me = await http.GetFromJsonAsync<JsonElement>("/api/v1/visitors/me");
            Assert.Equal("Ruth", me.GetProperty("name").GetString());
            Assert.Equal("ruth@example.com", me.GetProperty("email").GetString());
            Assert.Equal(await visitor.ConversationIdAsync(), me.GetProperty("conversationId").GetString());
        }

        // A returning visitor sees the conversation, not a blank form; then the agent's reply arrives.
        await visitor.Page.ReloadAsync();
        await visitor.OpenPanelAsync();
        await Expect(visitor.Message("My parcel never arrived.")).ToHaveAttributeAsync("data-seq", "1");
        await Expect(visitor.Widget.Locator("form.offline")).ToBeHiddenAsync();
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await agent.OpenConversationByNameAsync("Ruth");
        await agent.SendAsync("Sorry Ruth, we are sending a new one today.");
        await Expect(visitor.Message("Sorry Ruth, we are sending a new one today.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_pre_chat_forms_name_and_email_reach_the_visitors_profile()
    {
        var inboxId = "prechat-" + Guid.NewGuid().ToString("N")[..6];
        using (var admin = await fixture.AdminHttpAsync())
        {
            var created = await admin.PutAsJsonAsync($"/api/v1/inboxes/{inboxId}", new { name = "Pre-chat", preChatForm = true });
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture, path: $"/demo?inbox={inboxId}");
        await visitor.OpenPanelAsync();
        var prechat = visitor.Widget.Locator("form.prechat");
        await prechat.Locator("input[name=name]").FillAsync("Omar");
        await prechat.Locator("input[name=email]").FillAsync("omar@example.com");
        await prechat.Locator("button[type=submit]").ClickAsync();
        await Expect(visitor.Input).ToBeVisibleAsync();
        var me = await MeAsync(visitor);
        Assert.Equal("Omar", me.GetProperty("name").GetString());
        Assert.Equal("omar@example.com", me.GetProperty("email").GetString());
        Assert.Equal("en", me.GetProperty("attributes").GetProperty("locale").GetString());
    }

    /// <summary>The widget's visitor as <c>GET /api/v1/visitors/me</c> answers for its stored token.</summary>
    private async Task<JsonElement> MeAsync(VisitorPage visitor)
    {
        var token = await visitor.Page.EvaluateAsync<string>("""
            () => JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith('kefu.widget.')))).token
            """);
        using var http = new HttpClient { BaseAddress = fixture.BaseUri };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return await http.GetFromJsonAsync<JsonElement>("/api/v1/visitors/me");
    }

    [Fact]
    public async Task A_chinese_visitor_leaving_a_message_gets_the_away_text_in_chinese_and_no_email_promise()
    {
        await using var visitor = await VisitorPage.OpenAsync(fixture, "zh-CN");
        await visitor.OpenPanelAsync();
        await Expect(visitor.Widget.Locator("header h2")).ToHaveTextAsync("在线客服");
        var form = visitor.Widget.Locator("form.offline");
        await form.Locator("input[name=name]").FillAsync("王芳");
        await form.Locator("input[name=email]").FillAsync("wang@example.com");
        await form.Locator("textarea[name=text]").FillAsync("请问什么时候发货？");
        await form.Locator("button[type=submit]").ClickAsync();
        var notice = visitor.Widget.Locator("p.left");
        await Expect(notice).ToContainTextAsync("谢谢");
        Assert.DoesNotContain("邮件", await notice.TextContentAsync() ?? "", StringComparison.Ordinal);
        // The server's away message (the default inbox has no text of its own) is in the visitor's language.
        var away = visitor.Widget.Locator(".log .msg.system");
        await Expect(away).ToContainTextAsync("我们暂时不在线");
    }

    [Fact]
    public async Task A_widget_whose_token_the_server_refuses_starts_over_as_a_new_visitor()
    {
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await visitor.StartConversationAsync("before the key changed");

        // The gateway's signing key changed (a restart with a generated key): the stored token is refused at /ws.
        await visitor.Page.EvaluateAsync(ForgeStoredToken);
        await visitor.Page.ReloadAsync();
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("after the key changed");
        await Expect(visitor.Message("after the key changed")).ToHaveAttributeAsync("data-seq", "1", new() { Timeout = 30_000 });
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_widget_that_cannot_get_a_new_token_says_chat_is_unavailable_instead_of_reconnecting_forever()
    {
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await visitor.StartConversationAsync("before the key changed");
        await visitor.Page.EvaluateAsync(ForgeStoredToken);
        var creations = 0;
        await visitor.Context.RouteAsync("**/api/v1/visitors", async route =>
        {
            Interlocked.Increment(ref creations);
            await route.FulfillAsync(new() { Status = 503, ContentType = "application/problem+json", Body = """{"code":"unavailable"}""" });
        });
        await visitor.Page.ReloadAsync();
        await visitor.OpenPanelAsync();
        await Expect(visitor.Widget.Locator(".pane.unavailable")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Expect(visitor.Input).ToBeHiddenAsync();
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeHiddenAsync();
        var socketsThen = await visitor.Page.EvaluateAsync<int>("() => window.__kefuSockets.length");
        await visitor.Page.WaitForTimeoutAsync(3000); // long enough for a few reconnect attempts, if there were any
        Assert.Equal(socketsThen, await visitor.Page.EvaluateAsync<int>("() => window.__kefuSockets.length"));
        Assert.Equal(1, creations);
    }

    /// <summary>Replaces the stored visitor token's signature: unexpired, but no longer the server's.</summary>
    private const string ForgeStoredToken = """
        () => {
          const k = Object.keys(localStorage).find(x => x.startsWith('kefu.widget.'));
          const saved = JSON.parse(localStorage.getItem(k));
          const parts = saved.token.split('.');
          parts[2] = parts[2].split('').reverse().join('');
          saved.token = parts.join('.');
          localStorage.setItem(k, JSON.stringify(saved));
        }
        """;

    [Fact]
    public async Task A_widget_with_an_unknown_inbox_key_says_chat_is_unavailable_and_warns_the_site_owner_once()
    {
        var context = await fixture.NewContextAsync();
        await using var _ = context;
        await context.AddInitScriptAsync(VisitorPage.SocketProbe);
        var page = await context.NewPageAsync();
        var warnings = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "warning")
            {
                lock (warnings)
                {
                    warnings.Add(message.Text);
                }
            }
        };
        await HostAsync(context, "<script src=\"/widget.js\" data-inbox-key=\"pk_0000000000000000000000deleted\" async></script>");
        await page.GotoAsync("/host/shop");
        var widget = page.Locator("#kefu-widget");
        await widget.Locator("button.bubble").ClickAsync();
        await Expect(widget.Locator(".pane.unavailable")).ToBeVisibleAsync();
        await Expect(widget.Locator(".pane.unavailable")).ToContainTextAsync("not available");
        await Expect(widget.Locator("form.composer")).ToBeHiddenAsync();
        await Expect(widget.Locator("form.offline")).ToBeHiddenAsync();
        // Closing and opening again asks nothing new and warns no more.
        await widget.Locator("button.bubble").ClickAsync();
        await widget.Locator("button.bubble").ClickAsync();
        await Expect(widget.Locator(".pane.unavailable")).ToBeVisibleAsync();
        lock (warnings)
        {
            var warning = Assert.Single(warnings, w => w.Contains("Kefu", StringComparison.Ordinal));
            Assert.Contains("pk_0000000000000000000000deleted", warning, StringComparison.Ordinal);
            Assert.Single(warnings);
        }

        Assert.Equal(0, await page.EvaluateAsync<int>("() => window.__kefuSockets.length"));
    }

    [Fact]
    public async Task On_a_phone_the_open_widget_fills_the_screen_with_a_16px_input()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture); // someone online: the chat view, not the message form
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseUri.ToString(),
            ViewportSize = new ViewportSize { Width = 390, Height = 844 },
            IsMobile = true,
            HasTouch = true,
            Locale = "en-US",
        });
        await using var _ = context;
        var page = await context.NewPageAsync();
        await page.GotoAsync("/demo");
        var widget = page.Locator("#kefu-widget");
        await widget.Locator("button.bubble").ClickAsync();
        var panel = widget.Locator("section.panel");
        await Expect(panel).ToBeVisibleAsync();
        var box = (await panel.BoundingBoxAsync())!;
        Assert.Equal(0, box.X, 1);
        Assert.Equal(0, box.Y, 1);
        Assert.Equal(390, box.Width, 1);
        Assert.Equal(844, box.Height, 1);
        var input = widget.Locator("form.composer textarea");
        Assert.True(await input.EvaluateAsync<double>("e => parseFloat(getComputedStyle(e).fontSize)") >= 16);
        var composer = (await widget.Locator("form.composer").BoundingBoxAsync())!;
        Assert.True(composer.Y + composer.Height <= 844.5, "the composer is on the screen");

        // The keyboard takes the lower part of the screen (the visual viewport shrinks): the composer stays above it.
        await page.EvaluateAsync("""
            () => {
              Object.defineProperty(window.visualViewport, 'height', { configurable: true, get: () => 500 });
              window.visualViewport.dispatchEvent(new Event('resize'));
            }
            """);
        await Expect(panel).ToHaveCSSAsync("height", "500px");
        composer = (await widget.Locator("form.composer").BoundingBoxAsync())!;
        Assert.True(composer.Y + composer.Height <= 500.5, "the composer is above the keyboard");
    }

    /// <summary>Serves a page with this body on the gateway's origin (the widget's own origin) at /host/*.</summary>
    private async Task HostAsync(IBrowserContext context, string body) =>
        await context.RouteAsync(fixture.BaseUri + "host/**", route => route.FulfillAsync(new()
        {
            ContentType = "text/html; charset=utf-8",
            Body = $"<!doctype html><html><head><meta charset=\"utf-8\"><title>Shop</title></head><body><h1>Shop</h1>{body}</body></html>",
        }));

    [Fact]
    public async Task In_chinese_the_send_button_stays_on_one_line_and_the_agents_typing_has_a_space()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, "Administrator");
        await using var visitor = await VisitorPage.OpenAsync(fixture, "zh-CN");
        await visitor.OpenPanelAsync();
        await Expect(visitor.Widget.Locator("header h2")).ToHaveTextAsync("在线客服");
        // No greeting configured: a default one, not an empty white panel.
        await Expect(visitor.Widget.Locator(".greeting")).ToHaveTextAsync("您好！请问有什么可以帮您？");
        var send = visitor.Widget.Locator("form.composer button[type=submit]");
        await Expect(send).ToHaveTextAsync("发送");
        Assert.Equal(1, await send.EvaluateAsync<int>("b => { const r = document.createRange(); r.selectNodeContents(b); return r.getClientRects().length; }"));

        await visitor.SendAsync("你好");
        await Expect(visitor.Message("你好")).ToHaveAttributeAsync("data-state", "sent");
        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());
        await agent.Input.PressSequentiallyAsync("One moment");
        await Expect(visitor.Widget.Locator(".typing")).ToHaveTextAsync("Administrator 正在输入…");
    }

    [Fact]
    public async Task Offline_a_message_waits_for_the_network_at_once_and_goes_when_it_is_back()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.StartConversationAsync("online");
        await visitor.Context.SetOfflineAsync(true);
        // No socket cut by the test: the browser's own "offline" is enough to know, at once rather than in 40 s.
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToContainTextAsync("offline", new() { Timeout = 5_000 });
        await visitor.SendAsync("written offline");
        await Expect(visitor.Message("written offline").Locator(".meta")).ToContainTextAsync("Waiting for the network", new() { Timeout = 5_000 });
        await visitor.Context.SetOfflineAsync(false);
        await Expect(visitor.Message("written offline")).ToHaveAttributeAsync("data-seq", "2");
        await Expect(visitor.Widget.Locator(".banner:not(.queue)")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_failed_message_can_be_retried_or_discarded()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        // No visitor token to be had for a moment: the first message fails.
        await visitor.Context.RouteAsync("**/api/v1/visitors", route => route.FulfillAsync(new() { Status = 503 }));
        await visitor.SendAsync("first try");
        var first = visitor.Message("first try");
        await Expect(first).ToHaveAttributeAsync("data-state", "failed");
        await visitor.Context.UnrouteAllAsync();
        await first.Locator("button.retry").ClickAsync();
        await Expect(first).ToHaveAttributeAsync("data-seq", "1");
        await Expect(first.Locator("button.retry")).ToHaveCountAsync(0);

        // Too long for the server (a script can set what the box would not let a person type): refused, then discarded.
        await visitor.Page.EvaluateAsync(TypeBurst, new[] { new string('x', 9000) });
        var tooLong = visitor.Widget.Locator(".log .msg[data-state=failed]");
        await Expect(tooLong).ToHaveCountAsync(1);
        await tooLong.Locator("button.discard").ClickAsync();
        await Expect(tooLong).ToHaveCountAsync(0);
        await visitor.SendAsync("after the discarded one");
        await Expect(visitor.Message("after the discarded one")).ToHaveAttributeAsync("data-seq", "2");
    }

    [Fact]
    public async Task A_lone_surrogate_is_replaced_before_sending_and_the_chat_goes_on()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.StartConversationAsync("hello");
        // Built in the page: a string crossing from .NET to the page would arrive with the surrogate replaced already.
        await visitor.Page.EvaluateAsync($"texts => ({TypeBurst})(texts.map(t => t.replace('#', String.fromCharCode(0xD83D))))", new[] { "half an emoji # here" });
        var sent = visitor.Widget.Locator(".log .msg.mine[data-seq='2']");
        await Expect(sent).ToHaveCountAsync(1);
        Assert.Equal("half an emoji \uFFFD here", await sent.Locator(".text").TextContentAsync());
        await visitor.SendAsync("and then more");
        await Expect(visitor.Message("and then more")).ToHaveAttributeAsync("data-seq", "3");
    }

    [Fact]
    public async Task The_log_scrolls_to_the_newest_message_when_an_image_has_loaded()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.StartConversationAsync("line 00");
        await visitor.Page.EvaluateAsync(TypeBurst, Enumerable.Range(1, 12).Select(i => $"line {i:00}").ToArray());
        await Expect(visitor.Message("line 12")).ToHaveAttributeAsync("data-state", "sent");
        // The image's bytes arrive late, so it grows the log after its message was placed and scrolled to.
        await visitor.Context.RouteAsync("**/api/v1/attachments/**", async route =>
        {
            await Task.Delay(700);
            await route.ContinueAsync();
        });
        await visitor.Widget.Locator("form.composer input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "tall.png", MimeType = "image/png", Buffer = Png(120, 180) });
        var image = visitor.Widget.Locator(".log .msg img.thumb");
        await Expect(image).ToHaveAttributeAsync("alt", "tall.png");
        await image.EvaluateAsync("img => img.complete && img.naturalHeight > 0 ? true : new Promise(r => img.addEventListener('load', () => r(true)))");
        await visitor.Page.WaitForFunctionAsync("""
            () => { const log = document.querySelector('#kefu-widget').shadowRoot.querySelector('.log');
                    return log.scrollHeight - log.scrollTop - log.clientHeight < 2; }
            """, null, new() { Timeout = 5_000 });
    }

    [Fact]
    public async Task A_message_whose_sending_kills_the_connection_fails_after_a_few_tries_instead_of_looping()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.StartConversationAsync("hello");
        // As a server that aborts the socket on a frame it cannot handle would: every send of this text ends the connection.
        await visitor.Page.EvaluateAsync("""
            () => {
              const send = WebSocket.prototype.send;
              WebSocket.prototype.send = function (data) {
                if (typeof data === 'string' && data.includes('poison')) { this.close(); return; }
                return send.call(this, data);
              };
            }
            """);
        await visitor.SendAsync("poison");
        var poison = visitor.Message("poison");
        await Expect(poison).ToHaveAttributeAsync("data-state", "failed", new() { Timeout = 30_000 });
        await Expect(poison.Locator("button.retry")).ToBeVisibleAsync();
        var sockets = await visitor.Page.EvaluateAsync<int>("() => window.__kefuSockets.length");
        await visitor.SendAsync("after the bad one");
        await Expect(visitor.Message("after the bad one")).ToHaveAttributeAsync("data-seq", "2");
        Assert.True(sockets <= 4, $"{sockets} sockets: the widget reconnected in a loop");
    }

    [Fact]
    public async Task A_paged_sync_answer_with_more_to_come_makes_the_widget_sync_again_from_through_seq()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("hello");
        var sent = await visitor.Page.EvaluateAsync<string[]>("""
            conversationId => new Promise(resolve => {
              const socket = window.__kefuSockets[window.__kefuSockets.length - 1];
              const frames = [];
              const send = socket.send;
              socket.send = data => { frames.push(data); return send.call(socket, data); };
              socket.onmessage({ data: JSON.stringify({ type: 'synced', conversationId, lastSeq: 9, throughSeq: 1, hasMore: true }) });
              setTimeout(() => resolve(frames), 0);
            })
            """, conversationId);
        var sync = Assert.Single(sent, f => f.Contains("\"sync\"", StringComparison.Ordinal));
        Assert.Equal(1, JsonDocument.Parse(sync).RootElement.GetProperty("afterSeq").GetInt64());
    }

    /// <summary>A grey PNG of this size (stored rows, no compression to speak of).</summary>
    private static byte[] Png(int width, int height)
    {
        var raw = new byte[height * (1 + width * 3)];
        for (var y = 0; y < height; y++)
        {
            Array.Fill(raw, (byte)160, y * (1 + width * 3) + 1, width * 3);
        }

        using var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // RGB
        Chunk(png, "IHDR", header);
        using (var data = new MemoryStream())
        {
            using (var zlib = new System.IO.Compression.ZLibStream(data, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                zlib.Write(raw);
            }

            Chunk(png, "IDAT", data.ToArray());
        }

        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(number, Crc32(typed));
        png.Write(number);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
