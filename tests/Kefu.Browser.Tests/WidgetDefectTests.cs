using System.Net.Http.Json;
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
}
