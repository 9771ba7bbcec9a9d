using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Email;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Kefu.Gateway.Tests.Email;

/// <summary>
/// Replies by email, end to end: real mails (MailKit's SMTP client) to the gateway's built-in receiver on loopback, and
/// what the conversation then holds. The receiver answers 250 only after the message is stored, so the history is
/// read right after the send, without waiting.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class MailReceiverTests(GatewayFixture gateway)
{
    private static byte[] Key => Encoding.UTF8.GetBytes(GatewayFixture.MailTokenKey);

    [Fact]
    public async Task A_reply_lands_in_the_conversation_as_the_visitors_message_without_the_quoted_history()
    {
        var left = await LeaveMessageAsync("ann@example.com");
        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using var agent = await gateway.ConnectAsync(agentToken);
        await agent.SendAsync(new { type = "join", conversationId = left.ConversationId });
        await agent.ReceiveUntilAsync("joined");

        var reply = Reply("ann@example.com", ReplyAddress(left), "好的，谢谢！订单号是 A-1024。\n\nOn Mon, Dec 7, 2026 at 9:12 AM Kefu Support wrote:\n> Could you send the order number?\n");
        await SendAsync(reply);

        var pushed = (await agent.ReceiveUntilAsync("message"))[^1];
        Assert.Equal("好的，谢谢！订单号是 A-1024。", pushed.Str("text"));
        Assert.Equal("visitor", pushed.GetProperty("sender").Str("role"));
        Assert.Equal(left.VisitorId, pushed.GetProperty("sender").Str("id"));

        var last = (await HistoryAsync(left))[^1];
        Assert.Equal("好的，谢谢！订单号是 A-1024。", last.Str("text"));
        Assert.Equal("visitor", last.GetProperty("sender").Str("role"));
    }

    [Fact]
    public async Task A_mail_delivered_twice_is_one_message()
    {
        var left = await LeaveMessageAsync("bo@example.com");
        var reply = Reply("bo@example.com", ReplyAddress(left), "Only once, please.");
        await SendAsync(reply);
        await SendAsync(reply); // a sending server that retries after a lost 250

        var texts = (await HistoryAsync(left)).Select(m => m.Str("text")).ToList();
        Assert.Single(texts, t => t == "Only once, please.");
    }

    [Fact]
    public async Task A_reply_to_the_from_address_is_threaded_by_in_reply_to()
    {
        var left = await LeaveMessageAsync("cy@example.com");
        var mailId = Ulid.NewUlid().ToString();
        var reply = Reply("cy@example.com", GatewayFixture.MailFrom, "Answered From, not Reply-To.");
        reply.InReplyTo = $"{mailId}.{MailTokens.ReplyLocalPart(left.Tenant, left.ConversationId, Key)}@{GatewayFixture.MailReplyDomain}";
        await SendAsync(reply, GatewayFixture.MailFrom);
        Assert.Equal("Answered From, not Reply-To.", (await HistoryAsync(left))[^1].Str("text"));

        // References work too (a client that drops In-Reply-To), the newest Kefu reference first.
        var again = Reply("cy@example.com", GatewayFixture.MailFrom, "By References.");
        again.References.Add("unrelated@elsewhere.example");
        again.References.Add($"{mailId}.{MailTokens.ReplyLocalPart(left.Tenant, left.ConversationId, Key)}@{GatewayFixture.MailReplyDomain}");
        await SendAsync(again, GatewayFixture.MailFrom);
        Assert.Equal("By References.", (await HistoryAsync(left))[^1].Str("text"));

        // To the From address without a reference to a conversation: refused, nothing posted.
        var stray = Reply("cy@example.com", GatewayFixture.MailFrom, "A new question.");
        var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(stray, GatewayFixture.MailFrom));
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, refused.StatusCode);
        Assert.Equal("By References.", (await HistoryAsync(left))[^1].Str("text"));
    }

    [Fact]
    public async Task A_reply_from_another_address_is_accepted_and_a_resolved_conversation_reopens()
    {
        var left = await LeaveMessageAsync("di@example.com");
        using var admin = gateway.Http(await gateway.LoginAsync());
        await Desk.Ok(await admin.PostAsJsonAsync($"/api/v1/conversations/{left.ConversationId}/status", new { status = "resolved" }));

        await SendAsync(Reply("di.at.work@example.org", ReplyAddress(left), "Writing from my work address."));

        Assert.Equal("Writing from my work address.", (await HistoryAsync(left))[^1].Str("text"));
        var conversation = await Desk.Ok(await admin.GetAsync($"/api/v1/conversations/{left.ConversationId}"));
        Assert.NotEqual("resolved", conversation.Str("status"));
    }

    [Fact]
    public async Task An_out_of_office_reply_is_not_posted()
    {
        var left = await LeaveMessageAsync("ib@example.com");
        var before = (await HistoryAsync(left)).Length;
        var automatic = Reply("ib@example.com", ReplyAddress(left), "I am out of the office until Monday.");
        automatic.Headers.Add("Auto-Submitted", "auto-replied");
        await SendAsync(automatic);
        var legacy = Reply("ib@example.com", ReplyAddress(left), "Autoreply: away.");
        legacy.Headers.Add("X-Autoreply", "yes");
        await SendAsync(legacy);

        Assert.Equal(before, (await HistoryAsync(left)).Length);
        Assert.False(Kefu.Gateway.Email.InboundMailHandler.IsAutomatic(Reply("ib@example.com", ReplyAddress(left), "A person.")));
    }

    [Fact]
    public async Task Forged_and_unknown_recipients_are_refused_at_rcpt()
    {
        var left = await LeaveMessageAsync("ed@example.com");
        var genuine = ReplyAddress(left);
        var local = genuine[..genuine.IndexOf('@', StringComparison.Ordinal)];
        var otherConversation = Ulid.NewUlid().ToString();
        foreach (var forged in new[]
        {
            // Another conversation's id under this one's MAC, a wrong MAC, the right address on another domain, strangers.
            local.Replace(left.ConversationId, otherConversation, StringComparison.Ordinal) + "@" + GatewayFixture.MailReplyDomain,
            $"reply+{left.ConversationId}.0000000000000000.{left.Tenant}@{GatewayFixture.MailReplyDomain}",
            $"{local}@elsewhere.example",
            $"postmaster@{GatewayFixture.MailReplyDomain}",
            "someone@example.com",
        })
        {
            var refused = await Assert.ThrowsAsync<SmtpCommandException>(() => SendAsync(Reply("ed@example.com", forged, "Let me in."), forged));
            Assert.Equal(SmtpErrorCode.RecipientNotAccepted, refused.ErrorCode);
            Assert.Equal(SmtpStatusCode.MailboxUnavailable, refused.StatusCode);
        }

        Assert.DoesNotContain(await HistoryAsync(left), m => m.Str("text") == "Let me in.");
    }

    [Fact]
    public async Task Oversize_mail_is_refused_and_not_posted()
    {
        var left = await LeaveMessageAsync("fa@example.com");
        var address = ReplyAddress(left);

        // Announced with SIZE: refused at MAIL FROM, before any data.
        await using (var probe = await MailReceiverProbe.ConnectAsync(gateway.MailReceiverPort))
        {
            Assert.StartsWith("552", await probe.CommandAsync("MAIL FROM:<fa@example.com> SIZE=100000000"));
        }

        // Not announced: the data stream is cut off at the limit (262 144 bytes in the fixture).
        await using (var probe = await MailReceiverProbe.ConnectAsync(gateway.MailReceiverPort))
        {
            Assert.StartsWith("250", await probe.CommandAsync("MAIL FROM:<fa@example.com>"));
            Assert.StartsWith("250", await probe.CommandAsync($"RCPT TO:<{address}>"));
            Assert.StartsWith("354", await probe.CommandAsync("DATA"));
            var line = new string('x', 998) + "\r\n";
            await probe.WriteAsync("Subject: big\r\n\r\nToo big to post.\r\n");
            for (var i = 0; i < 400; i++)
            {
                await probe.WriteAsync(line);
            }

            await probe.WriteAsync(".\r\n");
            Assert.StartsWith("552", await probe.ReplyAsync());
        }

        Assert.DoesNotContain(await HistoryAsync(left), m => m.Str("text")?.StartsWith("Too big", StringComparison.Ordinal) == true);

        // The receiver still takes mail.
        await SendAsync(Reply("fa@example.com", address, "A small one."));
        Assert.Equal("A small one.", (await HistoryAsync(left))[^1].Str("text"));
    }

    [Fact]
    public async Task Garbage_is_answered_and_the_receiver_keeps_working()
    {
        var left = await LeaveMessageAsync("gu@example.com");
        var address = ReplyAddress(left);
        await using (var probe = await MailReceiverProbe.ConnectAsync(gateway.MailReceiverPort))
        {
            Assert.StartsWith("250", await probe.CommandAsync("MAIL FROM:<gu@example.com>"));
            Assert.StartsWith("250", await probe.CommandAsync($"RCPT TO:<{address}>"));
            Assert.StartsWith("354", await probe.CommandAsync("DATA"));
            await probe.WriteAsync("\u0001\u0002 not: a\r\nmail \u00ff\u00fe at all\r\n--boundary\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n\r\n.\r\n");
            Assert.StartsWith("554", await probe.ReplyAsync());

            // A broken multipart with no text: nothing to post (accepted and dropped), and the session goes on.
            Assert.StartsWith("250", await probe.CommandAsync("MAIL FROM:<gu@example.com>"));
            Assert.StartsWith("250", await probe.CommandAsync($"RCPT TO:<{address}>"));
            Assert.StartsWith("354", await probe.CommandAsync("DATA"));
            await probe.WriteAsync("Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n.\r\n");
            Assert.StartsWith("250", await probe.ReplyAsync());
            Assert.StartsWith("221", await probe.CommandAsync("QUIT"));
        }

        await SendAsync(Reply("gu@example.com", address, "Still here."));
        Assert.Equal("Still here.", (await HistoryAsync(left))[^1].Str("text"));
    }

    [Fact]
    public async Task Many_recipients_on_one_connection_are_cut_off()
    {
        var left = await LeaveMessageAsync("ha@example.com");
        var address = ReplyAddress(left);
        await using var probe = await MailReceiverProbe.ConnectAsync(gateway.MailReceiverPort);
        Assert.StartsWith("250", await probe.CommandAsync("MAIL FROM:<ha@example.com>"));
        var answers = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            answers.Add(await probe.CommandAsync($"RCPT TO:<someone{i}@{GatewayFixture.MailReplyDomain}>"));
        }

        // Ten refusals count like ten acceptances: probing for addresses is what the limit stops.
        Assert.All(answers.Take(10), a => Assert.StartsWith("550", a));
        Assert.All(answers.Skip(10), a => Assert.StartsWith("452", a));
        Assert.StartsWith("452", await probe.CommandAsync($"RCPT TO:<{address}>"));
    }

    [Fact]
    public async Task Mail_to_a_bounce_address_that_reports_no_failure_is_accepted_and_dropped()
    {
        var bounceAddress = $"{MailTokens.BounceLocalPart("default", Ulid.NewUlid().ToString(), Key)}@{GatewayFixture.MailReplyDomain}";
        await SendAsync(MailReceiverDsnReaderTests.Parse(MailReceiverDsnReaderTests.Dsn("delayed", "4.4.1", "451 4.4.1 try later")), bounceAddress);
        await SendAsync(Reply("ann@example.com", bounceAddress, "I am out of the office."), bounceAddress);
    }

    private sealed record Left(string Tenant, string ConversationId, string VisitorId, string Token);

    /// <summary>A visitor leaves a message with their email in the widget, as a real visitor would before leaving.</summary>
    private async Task<Left> LeaveMessageAsync(string email)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var key = (await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray()
            .Single(i => i.Str("inboxId") == "default").Str("publicKey")!;
        using var anonymous = gateway.Http();
        var widget = await Desk.Ok(await anonymous.GetAsync($"/api/v1/widget/{key}"));
        var response = await anonymous.PostAsJsonAsync($"/api/v1/widget/{key}/messages", new { name = "Visitor", email, text = "Is anyone there?" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var left = await response.Content.ReadFromJsonAsync<JsonElement>();
        return new Left(widget.Str("tenant")!, left.Str("conversationId")!, left.Str("visitorId")!, left.Str("token")!);
    }

    private static string ReplyAddress(Left left) =>
        $"{MailTokens.ReplyLocalPart(left.Tenant, left.ConversationId, Key)}@{GatewayFixture.MailReplyDomain}";

    private static MimeMessage Reply(string from, string to, string text)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Visitor", from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "Re: Your conversation";
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId("mail.example.com");
        message.Body = new TextPart("plain") { Text = text };
        return message;
    }

    private async Task SendAsync(MimeMessage message, string? recipient = null)
    {
        using var smtp = new SmtpClient();
        await smtp.ConnectAsync("127.0.0.1", gateway.MailReceiverPort, SecureSocketOptions.None);
        var to = recipient ?? message.To.Mailboxes.Single().Address;
        await smtp.SendAsync(message, new MailboxAddress("", message.From.Mailboxes.FirstOrDefault()?.Address ?? "sender@example.com"), [MailboxAddress.Parse(to)]);
        await smtp.DisconnectAsync(quit: true);
    }

    private async Task<JsonElement[]> HistoryAsync(Left left)
    {
        using var visitor = gateway.Http(left.Token);
        var page = await Desk.Ok(await visitor.GetAsync($"/api/v1/conversations/{left.ConversationId}/messages"));
        return [.. page.GetProperty("messages").EnumerateArray()];
    }
}
