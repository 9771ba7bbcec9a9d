namespace Kefu.Browser.Tests.Infrastructure;

/// <summary>
/// Screenshots are test artifacts (under the test output directory, <c>artifacts/</c>). With
/// <c>KEFU_SCREENSHOTS_DIR</c> set they are also written there, e.g. to refresh docs/screenshots/.
/// </summary>
public static class Screenshots
{
    public static async Task SaveAsync(IPage page, string name, ILocator? clip = null)
    {
        var path = Path.Combine(BrowserFixture.ArtifactsDirectory, name + ".png");
        var bytes = clip is null
            ? await page.ScreenshotAsync(new PageScreenshotOptions { Path = path })
            : await clip.ScreenshotAsync(new LocatorScreenshotOptions { Path = path });
        Assert.True(bytes.Length > 1000, $"screenshot {name} is empty");
        if (Environment.GetEnvironmentVariable("KEFU_SCREENSHOTS_DIR") is { Length: > 0 } extra)
        {
            Directory.CreateDirectory(extra);
            await File.WriteAllBytesAsync(Path.Combine(extra, name + ".png"), bytes);
        }
    }
}
