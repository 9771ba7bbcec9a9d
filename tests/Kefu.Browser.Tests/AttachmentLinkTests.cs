using Kefu.Browser.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Kefu.Browser.Tests;

/// <summary>Attachments open through short-lived signed links; a link clicked after it expired is renewed first.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AttachmentLinkTests(BrowserFixture fixture)
{
    /// <summary>Lets the test move the page's clock forward (Date.now), as if the page had stayed open for a while.</summary>
    private const string MovableClock = """
        (() => {
          window.__clockOffset = 0;
          const now = Date.now.bind(Date);
          Date.now = () => now() + window.__clockOffset;
        })();
        """;

    [Fact]
    public async Task A_file_link_clicked_after_its_signed_link_expired_still_downloads_the_file()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture, initScript: MovableClock);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("Can you send me the steps?");
        await Expect(visitor.Message("Can you send me the steps?")).ToHaveAttributeAsync("data-state", "sent");
        await agent.OpenConversationAsync(await visitor.ConversationIdAsync());

        var content = "1. restart\n2. retry\n"u8.ToArray();
        await agent.Page.Locator("#attach-input").SetInputFilesAsync(new FilePayload { Name = "steps.txt", MimeType = "text/plain", Buffer = content });
        var link = agent.Page.Locator("#log .msg a.file");
        await Expect(link).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex(@"\?exp=\d+&sig="));
        var linkRequests = 0;
        agent.Page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/link", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref linkRequests);
            }
        };

        // Ten minutes later (the link lives five): the click asks for a new link, then follows it.
        await agent.Page.EvaluateAsync("() => { window.__clockOffset = 10 * 60 * 1000; }");
        var download = await agent.Page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        Assert.True(Volatile.Read(ref linkRequests) >= 1, "the click did not ask for a new link");
        Assert.Equal("steps.txt", download.SuggestedFilename);
        Assert.Equal(content, await File.ReadAllBytesAsync((await download.PathAsync())!));
        var renewed = await link.GetAttributeAsync("href");
        Assert.NotNull(renewed);
        Assert.DoesNotContain("access_token", renewed, StringComparison.Ordinal);
        Assert.Contains("sig=", renewed, StringComparison.Ordinal);
        Assert.Equal(200, await agent.Page.EvaluateAsync<int>("url => fetch(url).then(r => r.status)", renewed));
    }
}
