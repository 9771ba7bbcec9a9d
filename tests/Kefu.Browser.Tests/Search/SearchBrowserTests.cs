using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests.Search;

/// <summary>The console's search box (docs/search.md): a Chinese and an English word find the conversation, and a result opens it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SearchBrowserTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_chinese_and_an_english_word_find_the_conversation_and_a_result_opens_it()
    {
        var n = Random.Shared.Next(0, 20_000);
        var cn = string.Concat((char)(0x4E00 + n), (char)(0x4E00 + ((n * 7) % 20_000))); // two Han characters no other test writes
        var en = "zb" + Guid.NewGuid().ToString("N")[..10];
        await using var agent = await ConsolePage.NewAgentAsync(fixture, "Sam"); // someone online, so the widget offers the chat
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        var conversationId = await visitor.StartConversationAsync($"我想申请{cn}退款");
        await visitor.SendAsync($"order {en} arrived broken");

        await using var admin = await ConsolePage.LoginAsync(fixture);
        var page = admin.Page;
        var result = page.Locator($"#search-results li[data-id='{conversationId}']");

        // The index follows the messages within moments: search again until it has them.
        await SearchUntilFoundAsync(page, cn + "退款", result);
        await Expect(result).ToContainTextAsync($"我想申请{cn}退款");
        await Expect(page.Locator("#search-results li")).ToHaveCountAsync(1);
        await SearchUntilFoundAsync(page, en.ToUpperInvariant(), result);
        await Expect(result.Locator(".search-snippet")).ToContainTextAsync($"order {en} arrived broken");
        await Screenshots.SaveAsync(page, "console-search");

        await result.ClickAsync();
        await Expect(admin.Message($"order {en} arrived broken")).ToBeVisibleAsync();

        // Nothing found says so; Clear hides the results.
        await page.Locator("#search-input").FillAsync("zz" + Guid.NewGuid().ToString("N")[..10]);
        await page.Locator("#search-submit").ClickAsync();
        await Expect(page.Locator("#search-status")).ToContainTextAsync("Nothing found");
        await page.Locator("#search-clear").ClickAsync();
        await Expect(page.Locator("#search-panel")).ToBeHiddenAsync();
    }

    private static async Task SearchUntilFoundAsync(IPage page, string query, ILocator result)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            await page.Locator("#search-input").FillAsync(query);
            await page.Locator("#search-submit").ClickAsync();
            await Expect(page.Locator("#search-status")).Not.ToHaveTextAsync("Searching…");
            if (await result.CountAsync() == 1 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(100);
        }

        await Expect(result).ToBeVisibleAsync();
    }
}
