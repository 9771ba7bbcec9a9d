using System.Text.Json;
using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// URLs in messages become safe links (linkify.js, used by the widget and the console through kefu-client.js): only
/// http(s) and mailto addresses written out literally, opened in a new tab without an opener or referrer; never a
/// script address, whatever the encoding trick; the text always shown exactly as it was written (issue #18 item 4).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class LinkRenderingTests(BrowserFixture fixture)
{
    /// <summary>Payloads that must stay text: no link, no element, no script (each also sets window.__pwned if it ran).</summary>
    private static readonly string[] Hostile =
    [
        "javascript:window.__pwned=1",
        "JaVaScRiPt:window.__pwned=1",
        " javascript:window.__pwned=1",
        "jav&#x61;script:window.__pwned=1",
        "jav&#97;script:window.__pwned=1",
        "java\tscript:window.__pwned=1",
        "java\nscript:window.__pwned=1",
        "java\u0000script:window.__pwned=1",
        "\u2028javascript:window.__pwned=1",
        "%6a%61%76%61%73%63%72%69%70%74:window.__pwned=1",
        "vbscript:msgbox(1)",
        "VBScript:msgbox(1)",
        "data:text/html,<script>window.__pwned=1</script>",
        "data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+",
        "<img src=x onerror=\"window.__pwned=1\">",
        "<a href=\"javascript:window.__pwned=1\">click</a>",
        "<svg onload=window.__pwned=1>",
        "<script>window.__pwned=1</script>",
        "mailto:javascript:window.__pwned=1",
        "https://javascript:window.__pwned=1",
        "https:///evil.example",
        "xhttps://example.com",
        "http://",
        "www.",
    ];

    /// <summary>Text with links: the links expected (text shown, href), in order.</summary>
    private static readonly (string Text, (string Shown, string Href)[] Links)[] Friendly =
    [
        ("see https://example.com.", [("https://example.com", "https://example.com/")]),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", [("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)")]),
        ("Is it https://shop.example/a?b=1&c=2, or http://shop.example/x!", [("https://shop.example/a?b=1&c=2", "https://shop.example/a?b=1&c=2"), ("http://shop.example/x", "http://shop.example/x")]),
        ("HTTPS://EXAMPLE.COM/Path", [("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path")]),
        ("go to www.example.com/help; thanks", [("www.example.com/help", "https://www.example.com/help")]),
        ("见https://example.com/订单。谢谢", [("https://example.com/订单", "https://example.com/%E8%AE%A2%E5%8D%95")]),
        ("https://例子.测试/", [("https://例子.测试/", "https://xn--fsqu00a.xn--0zwm56d/")]),
        ("https://xn--80ak6aa92e.com/", [("https://xn--80ak6aa92e.com/", "https://xn--80ak6aa92e.com/")]),
        ("https://example.com/\"><script>window.__pwned=1</script>", [("https://example.com/", "https://example.com/")]),
        ("https://example.com/<img src=x onerror=window.__pwned=1>", [("https://example.com/", "https://example.com/")]),
        ("https://a.example\u2028javascript:window.__pwned=1", [("https://a.example", "https://a.example/")]),
        ("https://a.example\u202Egpj.exe", [("https://a.example", "https://a.example/")]),
        ("write to mailto:help@example.com please", [("mailto:help@example.com", "mailto:help@example.com")]),
    ];

    private const string Render = """
        async texts => {
          const { linkify } = await import('/linkify.js');
          const host = document.createElement('div');
          document.body.appendChild(host);
          return texts.map(text => {
            const box = document.createElement('div');
            box.appendChild(linkify(text));
            host.appendChild(box);
            return {
              text: box.textContent,
              elements: [...box.querySelectorAll('*')].map(e => e.tagName),
              attributes: [...box.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name)),
              links: [...box.querySelectorAll('a')].map(a => ({ shown: a.textContent, href: a.href, protocol: a.protocol, target: a.target, rel: a.rel }))
            };
          });
        }
        """;

    [Fact]
    public async Task Hostile_payloads_stay_text_and_nothing_runs()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/"); // the strictest page policy: the module must work under it
        var results = await page.EvaluateAsync<JsonElement>(Render, Hostile);
        for (var i = 0; i < Hostile.Length; i++)
        {
            var r = results[i];
            Assert.Equal(Hostile[i], r.GetProperty("text").GetString());
            Assert.True(r.GetProperty("elements").GetArrayLength() == 0, $"'{Hostile[i]}' made elements: {r.GetProperty("elements")}");
        }

        // No element was made, so nothing could load or run; the flag is checked after the page has rendered a frame.
        await page.EvaluateAsync("() => new Promise(done => requestAnimationFrame(() => done()))");
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
    }

    [Fact]
    public async Task Urls_become_links_that_open_in_a_new_tab_without_an_opener_and_the_text_is_kept()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/");
        var results = await page.EvaluateAsync<JsonElement>(Render, Friendly.Select(f => f.Text).ToArray());
        for (var i = 0; i < Friendly.Length; i++)
        {
            var (text, expected) = Friendly[i];
            var r = results[i];
            Assert.Equal(text, r.GetProperty("text").GetString());
            Assert.All(r.GetProperty("elements").EnumerateArray(), e => Assert.Equal("A", e.GetString()));
            Assert.All(r.GetProperty("attributes").EnumerateArray(), a => Assert.Contains(a.GetString(), new[] { "href", "target", "rel", "class", "title" }));
            var links = r.GetProperty("links").EnumerateArray().ToArray();
            Assert.Equal(expected.Length, links.Length);
            for (var j = 0; j < links.Length; j++)
            {
                Assert.Equal(expected[j].Shown, links[j].GetProperty("shown").GetString());
                Assert.Equal(expected[j].Href, links[j].GetProperty("href").GetString());
                Assert.Contains(links[j].GetProperty("protocol").GetString(), new[] { "http:", "https:", "mailto:" });
                Assert.Equal("_blank", links[j].GetProperty("target").GetString());
                Assert.Equal("noopener noreferrer", links[j].GetProperty("rel").GetString());
            }
        }

        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
    }

    [Fact]
    public async Task Links_in_messages_are_safe_links_in_the_console_and_in_the_widget()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync("My order: https://shop.example/orders/42 — javascript:window.__pwned=1");
        await agent.OpenConversationAsync(conversationId);

        var seen = agent.Message("My order:");
        var link = seen.Locator("a.link");
        await Expect(link).ToHaveCountAsync(1);
        await Expect(link).ToHaveTextAsync("https://shop.example/orders/42");
        await Expect(link).ToHaveAttributeAsync("href", "https://shop.example/orders/42");
        await Expect(link).ToHaveAttributeAsync("target", "_blank");
        await Expect(link).ToHaveAttributeAsync("rel", "noopener noreferrer");
        await Expect(seen.Locator(".text")).ToHaveTextAsync("My order: https://shop.example/orders/42 — javascript:window.__pwned=1");
        // The visitor's own copy of the message shows the link too.
        await Expect(visitor.Message("My order:").Locator("a.link")).ToHaveAttributeAsync("href", "https://shop.example/orders/42");

        await agent.SendAsync("Track it at www.example.com/track?id=42.");
        var reply = visitor.Message("Track it at").Locator("a.link");
        await Expect(reply).ToHaveAttributeAsync("href", "https://www.example.com/track?id=42");
        await Expect(reply).ToHaveTextAsync("www.example.com/track?id=42");
        await Expect(reply).ToHaveAttributeAsync("rel", "noopener noreferrer");
        Assert.True(await visitor.Page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        Assert.True(await agent.Page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
    }

    [Theory]
    [InlineData("/linkify.js")]
    [InlineData("/composer-kit.js")]
    public async Task The_modules_the_widget_loads_next_to_the_client_may_be_imported_by_another_site(string path)
    {
        // The widget on a customer's page imports them from the gateway: a module from another origin loads only with CORS.
        using var http = new HttpClient { BaseAddress = fixture.BaseUri };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Origin", "http://shop.example");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
    }
}
