using Kefu.Browser.Tests.Infrastructure;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Kefu.Browser.Tests;

/// <summary>
/// Mail from the browser's side (docs/email.md, docs/email-inbound.md): the widget's "Email me the transcript", and the
/// whole loop of a left message — answered in the console, the answer in the visitor's mailbox (a capture SMTP server on
/// loopback), the visitor's answer by mail (sent with MailKit to the gateway's own SMTP receiver) back in the console.
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
        var replyTo = Assert.Single(reply.Message.ReplyTo.Mailboxes);
        Assert.Equal("reply.kefu.test", replyTo.Domain);
        Assert.Contains("Is my order 77 on its way?", reply.Message.TextBody, StringComparison.Ordinal);

        // The visitor answers from its mail program: the new text (not the quoted history) appears in the console.
        var answer = new MimeMessage();
        answer.From.Add(new MailboxAddress(name, email));
        answer.To.Add(new MailboxAddress("", replyTo.Address));
        answer.Subject = "Re: " + reply.Message.Subject;
        answer.InReplyTo = reply.Message.MessageId;
        answer.Body = new TextPart("plain")
        {
            Text = "Great, I will be home all day.\n\nOn Mon, 7 Dec 2026 at 10:00, Kefu <support@kefu.test> wrote:\n> Yes, it arrives tomorrow.\n",
        };
        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync("127.0.0.1", fixture.MailReceiverPort, SecureSocketOptions.None);
            await smtp.SendAsync(answer);
            await smtp.DisconnectAsync(quit: true);
        }

        await Expect(agent.Message("Great, I will be home all day.")).ToBeVisibleAsync();
        await Expect(agent.Page.GetByText("On Mon, 7 Dec 2026 at 10:00")).ToHaveCountAsync(0);
    }
}
