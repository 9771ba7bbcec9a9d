using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// The console in Chinese and English (issue #18): the agent's language preference (else the browser's) decides every
/// text of the console and its admin pages, dates follow the language and the agent's time zone, and the string table
/// has both languages for every key. Each test uses agents of its own: a preference is per agent, and the shared admin
/// must stay in English for the other tests.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed partial class ConsoleLanguageTests(BrowserFixture fixture)
{
    /// <summary>
    /// Visible texts (text nodes, and placeholders, titles and aria-labels of visible elements) that are an English
    /// text of the table whose Chinese differs: a string that was not translated. Templates count too ("Visitor {id}"
    /// matches "Visitor 1a2b3c") when their fixed part is long enough not to match user data by chance.
    /// </summary>
    private const string UntranslatedScript = """
        async () => {
          const { strings } = await import('/console/i18n.js');
          const exact = new Set(), patterns = [];
          for (const key of Object.keys(strings.en)) {
            const en = strings.en[key], zh = strings.zh[key];
            if (zh === undefined || zh === en) continue;
            const fixed = en.replace(/\{\w+\}/g, '').replace(/[^A-Za-z]/g, '');
            if (!/[A-Za-z]{2}/.test(fixed)) continue;
            if (en.indexOf('{') < 0) { exact.add(en.trim()); continue; }
            if (fixed.length < 5) continue;
            const source = en.trim().split(/\{\w+\}/).map(p => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('.+');
            patterns.push(new RegExp('^' + source + '$'));
          }
          const found = [];
          const check = (text, where) => {
            const s = (text || '').trim();
            if (!s) return;
            if (exact.has(s) || patterns.some(p => p.test(s))) found.push(where + ': ' + s);
          };
          const visible = el => el && el.checkVisibility && el.checkVisibility({ visibilityProperty: true });
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const el = n.parentElement;
            if (el.closest('tr[data-agent] > td:first-child')) continue; // a username ("admin") is data, not a text of the console
            if (el.closest('option, optgroup') ? visible(el.closest('select')) : visible(el)) check(n.nodeValue, el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''));
          }
          document.querySelectorAll('[placeholder], [title], [aria-label], optgroup[label]').forEach(el => {
            if (!visible(el.tagName === 'OPTGROUP' ? el.closest('select') : el)) return;
            ['placeholder', 'title', 'aria-label', 'label'].forEach(a => { if (el.hasAttribute(a)) check(el.getAttribute(a), el.tagName.toLowerCase() + '@' + a); });
          });
          if (exact.has(document.title.replace(/^\(\d+\) /, ''))) found.push('title: ' + document.title);
          return found;
        }
        """;

    [Fact]
    public async Task Every_key_of_the_string_table_has_an_English_and_a_Chinese_text_with_the_same_placeholders()
    {
        await using var console = await ConsolePage.OpenAsync(fixture);
        var problems = await console.Page.EvaluateAsync<string[]>("""
            async () => {
              const { strings } = await import('/console/i18n.js');
              const names = s => (s.match(/\{\w+\}/g) || []).sort().join(',');
              const out = [];
              for (const k of Object.keys(strings.en)) {
                if (!(k in strings.zh)) out.push('no Chinese: ' + k);
                else if (names(strings.en[k]) !== names(strings.zh[k])) out.push('placeholders differ: ' + k);
                if (!strings.en[k]) out.push('empty English: ' + k);
              }
              for (const k of Object.keys(strings.zh)) {
                if (!(k in strings.en)) out.push('no English: ' + k);
                if (!strings.zh[k]) out.push('empty Chinese: ' + k);
              }
              return out;
            }
            """);
        Assert.Empty(problems);
    }

    [Fact]
    public async Task An_admin_who_prefers_Chinese_sees_every_view_of_the_console_and_its_admin_pages_in_Chinese()
    {
        var agentId = await CreateAgentAsync("Lin", "admin", new { language = "zh" });

        // An English browser: the preference wins, before anything shows (no English flash: the app appears in Chinese).
        await using var console = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword);
        var page = console.Page;
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("你好，我想咨询一下订单");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "zh-CN");
        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("会话");
        await Expect(page.Locator("#logout")).ToHaveTextAsync("退出登录");
        await Expect(page.Locator(".filters button[data-filter='mine']")).ToHaveTextAsync("我的");
        Assert.EndsWith("Kefu 客服工作台", await page.TitleAsync(), StringComparison.Ordinal);
        await AssertAllChineseAsync(page, "list");

        await console.OpenConversationAsync(conversationId);
        await Expect(page.Locator("#log .msg")).ToHaveCountAsync(1);
        await Expect(console.Detail("访客")).ToBeVisibleAsync();
        await Expect(console.Detail("状态")).Not.ToHaveTextAsync("—");
        await Expect(page.Locator("#transfer-target option").First).ToHaveTextAsync("请选择…");
        await AssertAllChineseAsync(page, "chat and details");
        await Screenshots.SaveAsync(page, "console-zh");

        await page.Locator("#mode-note").ClickAsync();
        await Expect(page.Locator("#composer-input")).ToHaveAttributeAsync("placeholder", "内部备注（仅客服可见）…");
        await AssertAllChineseAsync(page, "note mode");

        foreach (var view in new[] { "agents", "teams", "inboxes", "canned", "api-keys" })
        {
            await console.ShowAdminAsync(view);
            if (view == "agents")
            {
                await Expect(page.Locator($"#agents-body tr[data-agent='{agentId}'] .agent-status")).ToHaveTextAsync("在线");
            }

            if (view == "inboxes")
            {
                await Expect(page.Locator("#inboxes-list .card").First).ToBeVisibleAsync();
                await Expect(page.Locator("#inbox-days")).ToContainTextAsync("周一");
            }

            await AssertAllChineseAsync(page, view);
        }

        await page.Locator("#me-name").ClickAsync();
        await Expect(page.Locator("#preferences")).ToBeVisibleAsync();
        await Expect(page.Locator("#pref-language")).ToHaveValueAsync("zh");
        await AssertAllChineseAsync(page, "preferences");
        await Screenshots.SaveAsync(page, "console-preferences-zh");
        await page.Locator("#preferences-cancel").ClickAsync();

        await page.GotoAsync("/console/routing.html");
        await Expect(page.Locator("#rules-meta")).ToHaveTextAsync(RulesMeta());
        await Expect(page.Locator("h2")).ToHaveTextAsync("路由规则");
        await AssertAllChineseAsync(page, "routing");

        await page.GotoAsync("/console/webhooks.html");
        await Expect(page.Locator("h2")).ToHaveTextAsync("Webhook 端点");
        await Expect(page.Locator("#endpoint-events")).ToContainTextAsync("全部（备注除外）");
        await AssertAllChineseAsync(page, "webhooks");

        await page.GotoAsync("/console/plugins.html");
        await Expect(page.Locator("h2")).ToHaveTextAsync("插件");
        await Expect(page.Locator("#upload-form h3")).ToHaveTextAsync("上传插件");
        await AssertAllChineseAsync(page, "plugins");
    }

    [Fact]
    public async Task Switching_the_language_in_Preferences_changes_the_console_and_survives_a_reload()
    {
        var agentId = await CreateAgentAsync("Wang", "agent", null);
        await using var console = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword);
        var page = console.Page;
        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("Conversations");

        await page.Locator("#me-name").ClickAsync();
        await Expect(page.Locator("#pref-language")).ToHaveValueAsync("");
        await page.Locator("#pref-language").SelectOptionAsync("zh");
        await page.Locator("#pref-email").FillAsync("wang@example.com");
        await page.Locator("#pref-email-notifications").CheckAsync();
        await page.Locator("#pref-time-zone").FillAsync("Asia/Shanghai");
        await page.Locator("#preferences-save").ClickAsync();

        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("会话");
        await Expect(page.Locator("#connection")).ToHaveClassAsync("connection online");
        await Expect(page.Locator("#presence option[value='away']")).ToHaveTextAsync("离开");
        using (var http = await AgentHttpAsync(agentId))
        {
            var saved = await http.GetFromJsonAsync<JsonElement>("/api/v1/agents/me/preferences");
            Assert.Equal("zh", saved.GetProperty("language").GetString());
            Assert.Equal("wang@example.com", saved.GetProperty("email").GetString());
            Assert.True(saved.GetProperty("emailNotifications").GetBoolean());
            Assert.Equal("Asia/Shanghai", saved.GetProperty("timeZone").GetString());
        }

        await console.ReloadAsync();
        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("会话");
        await Expect(page.Locator("#sound-toggle")).ToHaveTextAsync("提示音：开");

        // A refused save shows the server's problem (its code translated) and changes nothing.
        await page.Locator("#me-name").ClickAsync();
        await Expect(page.Locator("#pref-language")).ToHaveValueAsync("zh");
        await page.Locator("#pref-email").FillAsync("");
        await page.Locator("#preferences-save").ClickAsync();
        await Expect(page.Locator("#preferences-error")).ToContainTextAsync("emailNotifications");
        await Expect(page.Locator("#preferences-error")).ToContainTextAsync("输入有误");

        // Back to the browser's language (English here).
        await page.Locator("#pref-email-notifications").UncheckAsync();
        await page.Locator("#pref-language").SelectOptionAsync("");
        await page.Locator("#preferences-save").ClickAsync();
        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("Conversations");
        await console.ReloadAsync();
        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("Conversations");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
    }

    [Fact]
    public async Task Dates_are_in_Chinese_format_and_in_the_agents_time_zone()
    {
        var agentId = await CreateAgentAsync("Zhou", "admin", new { language = "zh", timeZone = "Asia/Kathmandu" });
        await using var console = await ConsolePage.LoginAsync(fixture, agentId, BrowserFixture.AgentPassword);
        var page = console.Page;
        await console.ShowAdminAsync("api-keys");
        var name = "时间 " + Guid.NewGuid().ToString("N")[..6];
        await page.Locator("#api-key-form input[name=name]").FillAsync(name);
        await page.Locator("#api-key-form input[value='events:read']").CheckAsync();
        await page.Locator("#api-key-form button[type=submit]").ClickAsync();
        var row = page.Locator("#api-keys-body tr").Filter(new() { HasText = name });
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync(ChineseDate());
        await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync("永不过期");
        await Expect(row.Locator("td").Nth(5)).ToHaveTextAsync("从未使用");

        // The same instant in the agent's zone (UTC+5:45), in Chinese: the day and the minutes of Kathmandu.
        var shown = await page.EvaluateAsync<string[]>("""
            async () => {
              const i = await import('/console/i18n.js');
              return [i.fmtDateTime('2026-01-02T03:04:05Z'), i.fmtTime('2026-01-02T20:30:00Z'), i.fmtDuration(300), i.timeZone()];
            }
            """);
        Assert.Equal("2026年1月2日 08:49:05", shown[0]);
        Assert.Equal("1月3日 02:15", shown[1]);
        Assert.Equal("5 分钟", shown[2]);
        Assert.Equal("Asia/Kathmandu", shown[3]);
    }

    [Fact]
    public async Task Without_a_preference_the_browser_language_decides_from_the_sign_in_page_on()
    {
        var agentId = await CreateAgentAsync("Chen", "agent", null);
        await using var context = await fixture.NewContextAsync("zh-CN");
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/");
        await Expect(page.Locator("#login-submit")).ToHaveTextAsync("登录");
        await Expect(page.Locator("#login-form")).ToContainTextAsync("用户名");
        await page.Locator("#login-username").FillAsync(agentId);
        await page.Locator("#login-password").FillAsync("wrong-password");
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page.Locator("#login-error")).ToHaveTextAsync("用户名或密码错误。");

        await page.Locator("#login-password").FillAsync(BrowserFixture.AgentPassword);
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page.Locator("#app")).ToBeVisibleAsync();
        await Expect(page.Locator("#connection")).ToHaveClassAsync("connection online");
        await Expect(page.Locator("#nav button[data-view='conversations']")).ToHaveTextAsync("会话");
        await Expect(page.Locator("#presence option[value='online']")).ToHaveTextAsync("在线");
        await AssertAllChineseAsync(page, "list (browser language)");
    }

    private static async Task AssertAllChineseAsync(IPage page, string view)
    {
        var found = await page.EvaluateAsync<string[]>(UntranslatedScript);
        Assert.True(found.Length == 0, $"English left in the Chinese console ({view}): {string.Join(" | ", found)}");
    }

    [GeneratedRegex("^(还没有规则：.*|版本 .*)$")]
    private static partial Regex RulesMeta();

    [GeneratedRegex(@"^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}$")]
    private static partial Regex ChineseDate();

    /// <summary>A new agent (or admin) with these preferences set as itself; its id.</summary>
    private async Task<string> CreateAgentAsync(string displayName, string role, object? preferences)
    {
        var agentId = $"lang-{Guid.NewGuid():N}"[..18];
        using (var admin = await fixture.AdminHttpAsync())
        {
            var created = await admin.PostAsJsonAsync("/api/v1/agents",
                new { username = agentId, password = BrowserFixture.AgentPassword, displayName, role, capacity = 50 });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        if (preferences is not null)
        {
            using var http = await AgentHttpAsync(agentId);
            Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync("/api/v1/agents/me/preferences", preferences)).StatusCode);
        }

        return agentId;
    }

    private async Task<HttpClient> AgentHttpAsync(string agentId)
    {
        var http = new HttpClient { BaseAddress = fixture.BaseUri };
        var login = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = agentId, password = BrowserFixture.AgentPassword });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
