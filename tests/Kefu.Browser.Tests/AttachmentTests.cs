using Kefu.Browser.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Kefu.Browser.Tests;

/// <summary>Images and files: picked in the widget or the console, uploaded, shown on the other side.</summary>
[Collection(BrowserCollection.Name)]
public sealed class AttachmentTests(BrowserFixture fixture)
{
    /// <summary>A 4×4 red PNG.</summary>
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/x0F8jngAAAABJRU5ErkJggg==");

    [Fact]
    public async Task A_visitor_attaches_an_image_the_agent_sees_it_and_sends_a_file_back()
    {
        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await using var visitor = await VisitorPage.OpenAsync(fixture);
        await visitor.OpenPanelAsync();
        await visitor.SendAsync("I have a screenshot");
        await Expect(visitor.Message("I have a screenshot")).ToHaveAttributeAsync("data-state", "sent");
        var conversationId = await visitor.ConversationIdAsync();

        // The visitor picks a PNG: it is uploaded, then sent as a message that shows the image on both sides.
        await visitor.Widget.Locator("form.composer input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "screen.png", MimeType = "image/png", Buffer = Png });
        var sent = visitor.Widget.Locator(".log .msg img.thumb");
        await Expect(sent).ToHaveAttributeAsync("alt", "screen.png");
        await Expect(visitor.Widget.Locator(".log .msg:has(img.thumb)")).ToHaveAttributeAsync("data-state", "sent");
        await LoadedAsync(sent);

        await agent.OpenConversationAsync(conversationId);
        var shown = agent.Page.Locator("#log .msg.visitor img.thumb");
        await Expect(shown).ToHaveAttributeAsync("alt", "screen.png");
        await Expect(shown).ToBeVisibleAsync();
        await LoadedAsync(shown);
        Assert.DoesNotContain("[attachment:", await agent.Page.Locator("#log").InnerTextAsync(), StringComparison.Ordinal);

        // A disguised executable is refused by the server, and the visitor is told why.
        await visitor.Widget.Locator("form.composer input[type=file]").SetInputFilesAsync(
            new FilePayload { Name = "cat.png", MimeType = "image/png", Buffer = [(byte)'M', (byte)'Z', 0, 0, 1, 2, 3, 4] });
        await Expect(visitor.Widget.Locator(".upload.error")).ToContainTextAsync("This type of file is not allowed.");

        // The agent replies with a text file: the visitor gets a download link.
        await agent.SendAsync("Thanks, here are the steps");
        await Expect(visitor.Message("Thanks, here are the steps")).ToBeVisibleAsync();
        await agent.Page.Locator("#attach-input").SetInputFilesAsync(
            new FilePayload { Name = "steps.txt", MimeType = "text/plain", Buffer = "1. restart\n2. retry\n"u8.ToArray() });
        var link = visitor.Widget.Locator(".log .msg a.file");
        await Expect(link).ToHaveTextAsync("\U0001F4CE steps.txt");
        await Expect(link).ToHaveAttributeAsync("download", "steps.txt");
        // Its address is a signed link of that one file, with no token in it.
        await Expect(link).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex(@"/api/v1/attachments/[0-9A-Z]{26}\?exp=\d+&sig=[A-Za-z0-9_-]+$"));
        Assert.DoesNotContain("access_token", await shown.GetAttributeAsync("src") ?? "access_token", StringComparison.Ordinal);
        var body = await visitor.Page.EvaluateAsync<string>("url => fetch(url).then(r => r.text())", await link.GetAttributeAsync("href"));
        Assert.Equal("1. restart\n2. retry\n", body);
        await Expect(agent.Page.Locator($"li.conv[data-id='{conversationId}'] .conv-preview")).ToHaveTextAsync("steps.txt");

        await Screenshots.SaveAsync(visitor.Page, "widget-attachments");
        await Screenshots.SaveAsync(agent.Page, "console-attachments");
    }

    /// <summary>The image was fetched (through its signed link) and decoded: 4 pixels wide.</summary>
    private static async Task LoadedAsync(ILocator image)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        int width;
        while ((width = await image.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : -1")) != 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(4, width);
    }
}
