using Kefu.Browser.Tests.Infrastructure;

namespace Kefu.Browser.Tests;

/// <summary>
/// Outgoing mail from the browser's side (docs/email.md): the widget's "Email me the transcript" and a left message
/// answered in the console reach the visitor's mailbox (a capture SMTP server on loopback).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class MailOutBrowserTests(BrowserFixture fixture)
{
    [Fact]
    public async Task The_widget_mails_the_transcript_and_an_answer_in_the_console_reaches_the_visitor_who_left()
    {
        var name = "Mailo " + Guid.NewGuid().ToString("N")[..6];
        var email = $"mailo-{Guid.NewGuid():N}@example.com";
        var visitor = await VisitorPage.OpenAsync(fixture);
        try
        {
            await visitor.OpenPanelAsync();
            var form = visitor.Widget.Locator("form.offline");
            await Expect(form).ToBeVisibleAsync();
            await form.Locator("input[name=name]").FillAsync(name);
            await form.Locator("input[name=email]").FillAsync(email);
            await form.Locator("textarea[name=text]").FillAsync("Is my order 77 on its way?");
            await form.Locator("button[type=submit]").ClickAsync();
            await Expect(visitor.Message("Is my order 77 on its way?")).ToHaveAttributeAsync("data-seq", "1");

            // The widget offers the transcript; the address the visitor gave is filled in.
            var transcript = visitor.Widget.Locator("form.transcript");
            await transcript.GetByRole(AriaRole.Button, new() { Name = "Email me the transcript" }).ClickAsync();
            await Expect(transcript.Locator("input[name=transcriptEmail]")).ToHaveValueAsync(email);
            await transcript.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true }).ClickAsync();
            await Expect(transcript.Locator(".note")).ToHaveTextAsync($"The transcript is on its way to {email}.");
            var mailed = await fixture.Mail.WaitForAsync(m => m.To == email, "the transcript");
            Assert.StartsWith("Your conversation with", mailed.Message.Subject, StringComparison.Ordinal);
            Assert.Contains("Is my order 77 on its way?", mailed.Message.TextBody, StringComparison.Ordinal);
        }
        finally
        {
            await visitor.DisposeAsync(); // the visitor leaves: an answer now goes by mail
        }

        await using var agent = await ConsolePage.NewAgentAsync(fixture);
        await agent.OpenConversationByNameAsync(name);
        await agent.SendAsync("Yes, it arrives tomorrow.");
        var reply = await fixture.Mail.WaitForAsync(m => m.To == email && (m.Message.TextBody ?? "").Contains("Yes, it arrives tomorrow.", StringComparison.Ordinal),
            "the offline reply");
        Assert.Equal("reply.kefu.test", Assert.Single(reply.Message.ReplyTo.Mailboxes).Domain);
        Assert.Contains("Is my order 77 on its way?", reply.Message.TextBody, StringComparison.Ordinal);
    }
}
