using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// Issue #11, console side: visitor details, session end and renewal, a list that survives a reload, live state,
/// narrow screens, an ordered outbox, take-over, failed messages and paged sync.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ConsoleDefectTests(BrowserFixture fixture)
{
    private const string Ended = "Your session has ended; sign in again.";

    [Fact]
    public async Task The_details_pane_shows_the_visitors_name_email_and_attributes_and_rows_show_display_names()
    {
        var display = "Mei " + Guid.NewGuid().ToString("N")[..4];
        await using var agent = await ConsolePage.NewAgentAsync(fixture, display);
        await using var visitor = await VisitorSocket.ConnectAsync(
            fixture, "Ann Lee", "ann@example.com", new() { ["plan"] = "gold", ["orderId"] = "A-1042" });
        await visitor.SendAsync("Where is my order?");

        await agent.OpenConversationAsync(visitor.ConversationId!, filter: "mine");
        await Expect(agent.Page.Locator("#chat-title")).ToHaveTextAsync("Ann Lee");
        await Expect(agent.Detail("Visitor")).ToHaveTextAsync("Ann Lee");
        await Expect(agent.Detail("Email")).ToHaveTextAsync("ann@example.com");
        await Expect(agent.Detail("plan")).ToHaveTextAsync("gold");
        await Expect(agent.Detail("orderId")).ToHaveTextAsync("A-1042");

        // Another agent (an admin) sees the assignee by its display name, in the header, the details and the row.
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.OpenConversationAsync(visitor.ConversationId!);
        await Expect(admin.Page.Locator("#chat-subtitle")).ToContainTextAsync("assigned to " + display);
        await Expect(admin.Detail("Assignee")).ToHaveTextAsync(display);
        await Expect(admin.ListItem(visitor.ConversationId!).Locator(".conv-assignee")).ToHaveTextAsync("→ " + display);
        await Expect(admin.ListItem(visitor.ConversationId!).Locator(".conv-name")).ToHaveTextAsync("Ann Lee");
    }

    [Fact]
    public async Task Visitor_details_are_for_agents_of_the_tenant_only()
    {
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Bea", "bea@example.com", new() { ["tier"] = "pro" });
        using var admin = await fixture.AdminHttpAsync();
        var details = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/visitors/{visitor.VisitorId}");
        Assert.Equal("Bea", details.GetProperty("name").GetString());
        Assert.Equal("bea@example.com", details.GetProperty("email").GetString());
        Assert.Equal("default", details.GetProperty("inbox").GetString());
        Assert.Equal("pro", details.GetProperty("attributes").GetProperty("tier").GetString());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("conversationId").ValueKind);

        var missing = await admin.GetAsync("/api/v1/visitors/01ARZ3NDEKTSV4RRFFQ69G5FAV");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("not_found", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_token_no_longer_valid_sends_the_agent_back_to_sign_in_with_a_message()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        // As after a gateway restart with a generated key: the stored token's signature no longer verifies.
        await agent.Page.EvaluateAsync("""
            () => { const s = JSON.parse(localStorage.getItem('kefu.console'));
                    const parts = s.token.split('.');
                    parts[2] = parts[2].split('').reverse().join('');
                    s.token = parts.join('.');
                    localStorage.setItem('kefu.console', JSON.stringify(s)); }
            """);
        await agent.Page.ReloadAsync();
        await Expect(agent.Page.Locator("#login-form")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator("#login-error")).ToHaveTextAsync(Ended);
        await Expect(agent.Page.Locator("#app")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_refused_websocket_sends_the_agent_back_to_sign_in_at_once()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: VisitorPage.SocketProbe + RefusableSockets);
        // From now on every upgrade is refused by the gateway (401 before the upgrade, as for a revoked or expired
        // token: the page only sees a socket that closes without opening), and the HTTP probe says 401 too.
        await agent.Page.EvaluateAsync("() => { window.__refuseSockets = true; }");
        await agent.Page.RouteAsync("**/api/v1/agents/me", route => route.FulfillAsync(new RouteFulfillOptions
        {
            Status = 401, ContentType = "application/problem+json", Body = """{"status":401,"code":"unauthorized"}""",
        }));
        await agent.CutSocketsAsync();
        await Expect(agent.Page.Locator("#login-form")).ToBeVisibleAsync();
        await Expect(agent.Page.Locator("#login-error")).ToHaveTextAsync(Ended);
    }

    [Fact]
    public async Task Signing_out_elsewhere_ends_the_session_of_an_open_console_at_once()
    {
        var agentId = await fixture.CreateAgentAsync("Twice");
        await using var first = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword);
        await using (var second = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword))
        {
            // Signing out revokes every token of the agent and closes its sockets: the first console's reconnect is refused.
            await second.Page.Locator("#logout").ClickAsync();
            await Expect(second.Page.Locator("#login-form")).ToBeVisibleAsync();
            await Expect(second.Page.Locator("#login-error")).ToBeHiddenAsync();
        }

        await Expect(first.Page.Locator("#login-form")).ToBeVisibleAsync();
        await Expect(first.Page.Locator("#login-error")).ToHaveTextAsync(Ended);
        await first.SubmitLoginAsync(agentId, BrowserFixture.AgentPassword);
        await Expect(first.Page.Locator("#connection")).ToHaveClassAsync("connection online");
    }

    [Fact]
    public async Task An_admin_deactivates_reactivates_and_deletes_an_agent_on_the_agents_page()
    {
        var agentId = await fixture.CreateAgentAsync("Gus");
        await using var gus = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword);
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.ShowAdminAsync("agents");
        var row = admin.Page.Locator($"#agents-body tr[data-agent='{agentId}']");
        await Expect(row.Locator(".agent-status")).ToHaveTextAsync("online");

        await row.GetByRole(AriaRole.Button, new() { Name = "Deactivate" }).ClickAsync();
        await Expect(row.Locator(".agent-status")).ToHaveTextAsync("deactivated");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Reactivate" })).ToBeVisibleAsync();
        await Expect(gus.Page.Locator("#login-error")).ToHaveTextAsync(Ended);
        await gus.SubmitLoginAsync(agentId, BrowserFixture.AgentPassword);
        await Expect(gus.Page.Locator("#login-error")).ToHaveTextAsync("Wrong username or password.");

        await row.GetByRole(AriaRole.Button, new() { Name = "Reactivate" }).ClickAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Deactivate" })).ToBeVisibleAsync();
        await gus.SubmitLoginAsync(agentId, BrowserFixture.AgentPassword);
        await Expect(gus.Page.Locator("#connection")).ToHaveClassAsync("connection online");
        await Expect(row.Locator(".agent-status")).ToHaveTextAsync("online");

        await admin.ClickAndConfirmAsync(row.GetByRole(AriaRole.Button, new() { Name = "Delete" }), $"Delete agent {agentId}?");
        await Expect(row).ToHaveCountAsync(0);
        await Expect(gus.Page.Locator("#login-error")).ToHaveTextAsync(Ended);
        await admin.ReloadAsync();
        await admin.ShowAdminAsync("agents");
        await Expect(admin.Page.Locator("#agents-body tr").First).ToBeVisibleAsync();
        await Expect(row).ToHaveCountAsync(0);
    }

    /// <summary>Lets a test make the page's next sockets carry a token the gateway refuses.</summary>
    private const string RefusableSockets = """
        (() => {
          const Native = window.WebSocket;
          window.__refuseSockets = false;
          window.WebSocket = class extends Native {
            constructor(url, protocols) { super(window.__refuseSockets ? url.replace(/access_token=[^&]*/, 'access_token=refused') : url, protocols); }
          };
        })();
        """;

    [Fact]
    public async Task The_console_renews_its_token_while_open_before_a_third_of_its_lifetime_is_left()
    {
        var agentId = await fixture.CreateAgentAsync();
        await using var agent = await ConsolePage.OpenAsync(fixture);
        await agent.Page.Clock.InstallAsync();
        await agent.Page.ReloadAsync();
        await agent.SubmitLoginAsync(agentId, BrowserFixture.AgentPassword);
        await Expect(agent.Page.Locator("#connection")).ToHaveClassAsync("connection online");
        var before = await StoredSessionAsync(agent.Page);

        // Not yet: more than a third of the 12 h lifetime is left after 7 h.
        await agent.Page.Clock.FastForwardAsync("07:00:00");
        Assert.Equal(before.GetProperty("token").GetString(), (await StoredSessionAsync(agent.Page)).GetProperty("token").GetString());

        var refreshed = agent.Page.WaitForResponseAsync(r => r.Url.EndsWith("/api/v1/auth/refresh", StringComparison.Ordinal));
        await agent.Page.Clock.FastForwardAsync("01:05:00");
        Assert.Equal(200, (await refreshed).Status);
        await Expect(agent.Page.Locator("#app")).ToBeVisibleAsync();
        var after = await StoredSessionAsync(agent.Page);
        Assert.NotEqual(before.GetProperty("expiresAt").GetString(), after.GetProperty("expiresAt").GetString());
    }

    [Fact]
    public async Task Previews_activity_and_unread_survive_a_reload_rows_sort_by_activity_and_never_preview_the_away_text()
    {
        var display = "Lin " + Guid.NewGuid().ToString("N")[..4];
        await using var agent = await ConsolePage.NewAgentAsync(fixture, display);
        await using var alpha = await VisitorSocket.ConnectAsync(fixture, "Alpha");
        await alpha.SendAsync("first question from alpha");
        await using var beta = await VisitorSocket.ConnectAsync(fixture, "Beta");
        await beta.SendAsync("a question from beta");
        var alphaRow = agent.ListItem(alpha.ConversationId!);
        var betaRow = agent.ListItem(beta.ConversationId!);
        await Expect(betaRow).ToBeVisibleAsync();

        // Live: a new message updates the row's preview and moves it to the top.
        await alpha.SendAsync("newer from alpha");
        await Expect(alphaRow.Locator(".conv-preview")).ToHaveTextAsync("newer from alpha");
        await Expect(agent.Page.Locator("li.conv").First).ToHaveAttributeAsync("data-id", alpha.ConversationId!);

        await DirectoryRows.WaitForPreviewAsync(fixture, alpha.ConversationId!, "newer from alpha");
        await DirectoryRows.WaitForPreviewAsync(fixture, beta.ConversationId!, "a question from beta");
        await agent.ReloadAsync();
        await Expect(alphaRow.Locator(".conv-preview")).ToHaveTextAsync("newer from alpha");
        await Expect(alphaRow.Locator(".conv-name")).ToHaveTextAsync("Alpha");
        await Expect(alphaRow.Locator(".badge")).ToHaveTextAsync("2");
        await Expect(betaRow.Locator(".conv-preview")).ToHaveTextAsync("a question from beta");
        await Expect(agent.Page.Locator("li.conv").First).ToHaveAttributeAsync("data-id", alpha.ConversationId!);
        var alphaTime = await alphaRow.Locator(".conv-time").GetAttributeAsync("data-ts");
        var betaTime = await betaRow.Locator(".conv-time").GetAttributeAsync("data-ts");
        Assert.True(DateTimeOffset.Parse(alphaTime!) > DateTimeOffset.Parse(betaTime!), $"{alphaTime} after {betaTime}");
        await Expect(alphaRow.Locator(".conv-assignee")).ToHaveTextAsync("→ " + display);

        // A visitor of an inbox nobody serves gets the away message; the row previews the visitor's words.
        var (inbox, _) = await UnservedInboxAsync();
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await using var late = await VisitorSocket.ConnectAsync(fixture, "Late", inbox: inbox);
        await late.SendAsync("anyone there?");
        var lateRow = admin.ListItem(late.ConversationId!);

        // Not a participant, the admin's console learns the preview from the list, which follows within about a second.
        await DirectoryRows.WaitForPreviewAsync(fixture, late.ConversationId!, "anyone there?");
        await admin.ShowFilterAsync("all");
        await Expect(lateRow.Locator(".conv-preview")).ToHaveTextAsync("anyone there?");
        await admin.ReloadAsync();
        await admin.ShowFilterAsync("all");
        await Expect(lateRow.Locator(".conv-preview")).ToHaveTextAsync("anyone there?");
        await Expect(lateRow.Locator(".conv-name")).ToHaveTextAsync("Late");
    }

    [Fact]
    public async Task Once_a_queued_chat_is_assigned_nobody_still_sees_it_queued()
    {
        var (inbox, bo) = await UnservedInboxAsync();
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await using var other = await ConsolePage.NewAgentAsync(fixture, "Cy");
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Queued Quinn", inbox: inbox);
        await visitor.SendAsync("waiting for someone");
        var id = visitor.ConversationId!;

        await admin.ShowFilterAsync("all");
        await Expect(admin.ListItem(id)).ToContainTextAsync("#1 in queue");
        await other.ShowFilterAsync("all");
        await Expect(other.ListItem(id)).ToContainTextAsync("unassigned");
        await Expect(other.ListItem(id).Locator(".pill.status-queued")).ToBeVisibleAsync();

        // The team's agent comes online and the dispatcher assigns the chat to it.
        await using var boConsole = await ConsolePage.LoginAsync(fixture, bo, BrowserFixture.AgentPassword);
        await Expect(admin.ListItem(id).Locator(".pill.status-open")).ToBeVisibleAsync();
        await Expect(admin.ListItem(id)).Not.ToContainTextAsync("in queue");
        await Expect(admin.ListItem(id)).Not.ToContainTextAsync("unassigned");
        await Expect(other.ListItem(id).Locator(".pill.status-queued")).ToHaveCountAsync(0);
        await Expect(other.ListItem(id)).Not.ToContainTextAsync("unassigned");
    }

    [Fact]
    public async Task The_transfer_list_and_the_agents_page_show_live_agent_statuses()
    {
        var dee = await fixture.CreateAgentAsync("Dee");
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Transfer Tess");
        await visitor.SendAsync("hello");
        await admin.OpenConversationAsync(visitor.ConversationId!);
        var option = admin.Page.Locator($"#transfer-target option[value='agent:{dee}']");
        await Expect(option).ToContainTextAsync("(offline");

        await using (var deeConsole = await ConsolePage.LoginAsync(fixture, dee, BrowserFixture.AgentPassword))
        {
            await Expect(option).ToContainTextAsync("(online");
            await admin.ShowAdminAsync("agents");
            var status = admin.Page.Locator($"#agents-body tr[data-agent='{dee}'] .agent-status");
            await Expect(status).ToHaveTextAsync("online");
            await deeConsole.Page.Locator("#presence").SelectOptionAsync("away");
            await Expect(status).ToHaveTextAsync("away");
        }
    }

    [Fact]
    public async Task Read_receipts_show_the_servers_read_state_when_a_conversation_is_opened_again()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var one = await VisitorSocket.ConnectAsync(fixture, "Reader");
        var seq = await one.SendAsync("question");
        await using var two = await VisitorSocket.ConnectAsync(fixture, "Other");
        await two.SendAsync("another question");

        await agent.OpenConversationAsync(one.ConversationId!, filter: "mine");
        await agent.SendAsync("the answer");
        var answer = agent.Message("the answer");
        await Expect(answer).ToHaveAttributeAsync("data-state", "sent");
        await one.ReadAsync(seq + 1);
        await Expect(answer).ToHaveAttributeAsync("data-state", "read");

        await agent.OpenConversationAsync(two.ConversationId!, filter: "mine");
        await agent.OpenConversationAsync(one.ConversationId!, filter: "mine");
        await Expect(answer).ToHaveAttributeAsync("data-state", "read");
        await agent.ReloadAsync();
        await agent.OpenConversationAsync(one.ConversationId!, filter: "mine");
        await Expect(answer).ToHaveAttributeAsync("data-state", "read");
    }

    [Theory]
    [InlineData(1024, 768)]
    [InlineData(960, 1040)]
    public async Task On_a_narrow_screen_the_details_open_as_a_drawer_and_the_top_bar_stays_on_one_line(int width, int height)
    {
        await using var admin = await ConsolePage.LoginAsync(fixture);
        await admin.Page.SetViewportSizeAsync(width, height);
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Narrow Nora");
        await visitor.SendAsync("small screen");
        await admin.OpenConversationAsync(visitor.ConversationId!);

        await Expect(admin.Page.Locator("#priority")).Not.ToBeInViewportAsync();
        await admin.Page.Locator("#details-toggle").ClickAsync();
        foreach (var control in new[] { "#priority", "#tag-input", "#transfer-target", "#transfer-form button" })
        {
            await Expect(admin.Page.Locator(control)).ToBeInViewportAsync(new() { Ratio = 1 });
        }

        await admin.Page.Locator("#tag-input").FillAsync("narrow");
        await admin.Page.Locator("#tag-form button").ClickAsync();
        await Expect(admin.Page.Locator("#tags")).ToContainTextAsync("narrow");
        await Screenshots.SaveAsync(admin.Page, $"console-{width}-details");
        await admin.Page.Locator("#details-close").ClickAsync();
        await Expect(admin.Page.Locator("#priority")).Not.ToBeInViewportAsync();

        // One line: every item of the top bar sits in it, fully visible (none wrapped below, none cut off).
        var layout = await admin.Page.EvaluateAsync<JsonElement>("""
            () => { const bar = document.querySelector('.topbar').getBoundingClientRect();
                    const nav = document.querySelector('.topbar .nav').getBoundingClientRect();
                    const items = [...document.querySelectorAll('.topbar .brand, .topbar .nav button:not([hidden]), .topbar .me > *')]
                      .filter(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0);
                    return { height: bar.height, outside: items.filter(e => { const r = e.getBoundingClientRect();
                      return r.top < bar.top || r.bottom > bar.bottom || r.left < 0 || r.right > window.innerWidth
                        || (e.closest('.nav') && r.right > nav.right + 0.5); }).map(e => e.textContent || e.id) }; }
            """);
        Assert.Equal(52, layout.GetProperty("height").GetDouble());
        Assert.Equal("[]", layout.GetProperty("outside").GetRawText()); // names what sticks out
        await Screenshots.SaveAsync(admin.Page, $"console-{width}");
    }

    [Fact]
    public async Task A_burst_of_replies_beyond_the_frame_limit_is_stored_in_the_order_typed()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Burst Bo");
        await visitor.SendAsync("go");
        await agent.OpenConversationAsync(visitor.ConversationId!, filter: "mine");
        await Expect(agent.Message("go")).ToHaveAttributeAsync("data-seq", "1");

        // 80 replies in one go (more than the frame burst of 60), then 10 more typed while the first are retried.
        await agent.Page.EvaluateAsync("""
            () => { const input = document.getElementById('composer-input');
                    for (let i = 1; i <= 80; i++) {
                      input.value = 'burst ' + String(i).padStart(3, '0');
                      input.dispatchEvent(new Event('input'));
                      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
                    } }
            """);
        for (var i = 81; i <= 90; i++)
        {
            await agent.SendAsync($"burst {i:000}");
        }

        await Expect(agent.Message("burst 090")).ToHaveAttributeAsync("data-seq", "91", new() { Timeout = 30_000 });
        using var admin = await fixture.AdminHttpAsync();
        var page = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/conversations/{visitor.ConversationId}/messages?after=1&limit=100");
        var stored = page.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToArray();
        Assert.Equal(Enumerable.Range(1, 90).Select(i => $"burst {i:000}"), stored);
        Assert.DoesNotContain(await agent.MessagesAsync(), m => m.State is "failed" or "sending");
    }

    [Fact]
    public async Task A_full_agent_opening_a_queued_chat_is_told_why_and_can_take_it_over_later()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, "Full Fay", capacity: 1);
        await using var first = await VisitorSocket.ConnectAsync(fixture, "First Fred");
        await first.SendAsync("first");
        await Expect(agent.ListItem(first.ConversationId!)).ToBeVisibleAsync();
        await using var second = await VisitorSocket.ConnectAsync(fixture, "Second Sam");
        await second.SendAsync("second, waiting");
        try
        {
            await agent.OpenConversationAsync(second.ConversationId!, filter: "queued");
            var banner = agent.Page.Locator("#chat-banner");
            await Expect(banner).ToContainTextAsync("capacity");
            await agent.SendAsync("Can I help?");
            await Expect(banner).ToBeVisibleAsync();
            await Expect(agent.Input).ToHaveValueAsync("Can I help?");
            await Expect(agent.Page.Locator("#log .msg[data-state='failed']")).ToHaveCountAsync(0);
            await Expect(agent.Message("Can I help?")).ToHaveCountAsync(0);

            // A slot frees: "Take over" takes it, and the reply goes.
            using var admin = await fixture.AdminHttpAsync();
            var resolved = await admin.PostAsJsonAsync($"/api/v1/conversations/{first.ConversationId}/status", new { status = "resolved" });
            Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
            await agent.Page.Locator("#take-over").ClickAsync();
            await Expect(agent.Page.Locator("#chat-subtitle")).ToContainTextAsync("assigned to Full Fay");
            await Expect(banner).ToBeHiddenAsync();
            await agent.Input.PressAsync("Enter");
            await Expect(agent.Message("Can I help?")).ToHaveAttributeAsync("data-state", "sent");
        }
        finally
        {
            using var admin = await fixture.AdminHttpAsync();
            await admin.PostAsJsonAsync($"/api/v1/conversations/{second.ConversationId}/status", new { status = "resolved" });
        }
    }

    [Fact]
    public async Task A_refused_reply_can_be_retried_or_discarded_and_the_paperclip_is_an_icon()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Long Lu");
        await visitor.SendAsync("hi");
        await agent.OpenConversationAsync(visitor.ConversationId!, filter: "mine");
        await Expect(agent.Page.Locator("#attach-button svg")).ToHaveCountAsync(1);
        Assert.Equal("", (await agent.Page.Locator("#attach-button").TextContentAsync())!.Trim());

        var tooLong = new string('x', 9000);
        await agent.Input.FillAsync(tooLong);
        await agent.Input.PressAsync("Enter");
        var failed = agent.Page.Locator("#log .msg[data-state='failed']");
        await Expect(failed).ToHaveCountAsync(1);
        await failed.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await Expect(failed).ToHaveCountAsync(1);
        await agent.SendAsync("a normal one");
        await Expect(agent.Message("a normal one")).ToHaveAttributeAsync("data-state", "sent");
        await failed.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await Expect(failed).ToHaveCountAsync(0);
        await Expect(agent.Page.Locator("#log .msg")).ToHaveCountAsync(2);
    }

    [Fact]
    public async Task A_sync_answer_that_says_more_remain_is_followed_by_the_next_page()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorSocket.ConnectAsync(fixture, "Paged Pia");
        await visitor.SendAsync("one");
        await visitor.SendAsync("two");
        var syncs = new List<string>();
        var paged = false;
        await agent.Page.RouteWebSocketAsync("**/ws**", ws =>
        {
            var server = ws.ConnectToServer();
            ws.OnMessage(frame =>
            {
                lock (syncs)
                {
                    if (frame.Text?.Contains("\"sync\"", StringComparison.Ordinal) == true)
                    {
                        syncs.Add(frame.Text);
                    }
                }

                server.Send(frame.Text!);
            });
            server.OnMessage(frame =>
            {
                var text = frame.Text!;
                if (!paged && text.Contains("\"synced\"", StringComparison.Ordinal))
                {
                    // As the server answers a long catch-up: this page ended at seq 1 and more remain.
                    paged = true;
                    using var doc = JsonDocument.Parse(text);
                    text = JsonSerializer.Serialize(new
                    {
                        type = "synced", conversationId = doc.RootElement.GetProperty("conversationId").GetString(),
                        lastSeq = doc.RootElement.GetProperty("lastSeq").GetInt64(), throughSeq = 1, hasMore = true,
                    });
                }

                ws.Send(text);
            });
        });
        await agent.Page.ReloadAsync();
        await Expect(agent.Page.Locator("#connection")).ToHaveClassAsync("connection online");
        await agent.OpenConversationAsync(visitor.ConversationId!, filter: "mine");
        await Expect(agent.Message("two")).ToHaveAttributeAsync("data-seq", "2");
        await WaitUntilAsync(() => { lock (syncs) { return syncs.Any(s => s.Contains("\"afterSeq\":1", StringComparison.Ordinal)); } });
    }

    /// <summary>An inbox served only by a team whose one agent is offline: its visitors wait in the queue.</summary>
    private async Task<(string Inbox, string Agent)> UnservedInboxAsync()
    {
        var agentId = await fixture.CreateAgentAsync("Bo");
        var teamId = await fixture.CreateTeamAsync("Night shift", agentId);
        var inboxId = "night-" + Guid.NewGuid().ToString("N")[..6];
        using var admin = await fixture.AdminHttpAsync();
        var response = await admin.PutAsJsonAsync($"/api/v1/inboxes/{inboxId}", new { name = "Night", teams = new[] { teamId } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (inboxId, agentId);
    }

    /// <summary>Waits for a condition seen from the test's side (not the page's), failing after 15 s.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition was not met within 15 s.");
            await Task.Delay(50);
        }
    }

    private static async Task<JsonElement> StoredSessionAsync(IPage page) =>
        JsonDocument.Parse(await page.EvaluateAsync<string>("() => localStorage.getItem('kefu.console')")).RootElement.Clone();
}
