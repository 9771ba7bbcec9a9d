using System.Net;
using System.Net.Http.Json;
using System.Text;
using Kefu.Contracts.Email;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Email;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Email;

/// <summary>
/// Outgoing mail end to end (docs/email.md): real SMTP to a <see cref="MailSink"/> on loopback. Offline replies with their
/// threading headers and history, in the visitor's language; transcripts on request and on resolve; agent notifications
/// only for opted-in agents without a console; retries when the server is down or answers 4xx, email.failed for a 5xx
/// and for a bounce; a cause handled twice is one mail.
/// </summary>
[Collection(MailOutCollection.Name)]
public sealed class MailOutTests(MailOutFixture fixture)
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes(MailOutFixture.TokenKey);

    private IGrainFactory Grains => fixture.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task An_agents_reply_to_a_left_message_reaches_the_visitor_with_reply_to_bounce_sender_message_id_and_history()
    {
        var (_, key) = await fixture.InboxAsync();
        var email = $"ruth-{Guid.NewGuid():N}@example.com";
        var (conversationId, _) = await fixture.LeftMessageAsync(key, "Ruth", email, "My parcel <b>never</b> arrived.");
        await fixture.ReplyAsync(conversationId, "Sorry Ruth, a new one ships today.", "Tracking follows by mail.");

        var mail = await fixture.Sink.WaitForAsync(m => m.To == email, "offline reply");
        var message = mail.Message;

        // Reply-To: the conversation's signed reply address.
        var replyTo = Assert.Single(message.ReplyTo.Mailboxes);
        Assert.Equal(MailOutFixture.ReplyDomain, replyTo.Domain);
        Assert.True(MailTokens.TryParseReply(replyTo.LocalPart, Key, out var tenant, out var replyConversation));
        Assert.Equal("default", tenant);
        Assert.Equal(conversationId, replyConversation);

        // MAIL FROM: the mail's signed bounce address; Message-ID: {mailId}.{reply local part}@{reply domain}.
        var at = mail.EnvelopeFrom.IndexOf('@', StringComparison.Ordinal);
        Assert.True(MailTokens.TryParseBounce(mail.EnvelopeFrom[..at], Key, out _, out var mailId));
        Assert.Equal(MailOutFixture.ReplyDomain, mail.EnvelopeFrom[(at + 1)..]);
        Assert.Equal($"{mailId}.{replyTo.LocalPart}@{MailOutFixture.ReplyDomain}", message.MessageId);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);

        // Both replies in one mail (the debounce), the visitor's own message as history; user text encoded in HTML.
        Assert.Contains("Sorry Ruth, a new one ships today.", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Tracking follows by mail.", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("My parcel <b>never</b> arrived.", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("My parcel &lt;b&gt;never&lt;/b&gt; arrived.", message.HtmlBody, StringComparison.Ordinal);
        Assert.StartsWith("New reply from Acme", message.Subject, StringComparison.Ordinal);

        var sent = await fixture.WaitForEventAsync("email.sent", d => d.Str("mailId") == mailId, "the offline reply's email.sent");
        Assert.Equal(conversationId, sent.GetProperty("data").Str("conversationId"));
        Assert.Equal("offline_reply", sent.GetProperty("data").Str("kind"));
        Assert.Equal(email, sent.GetProperty("data").Str("to"));

        // A later reply is a second mail, threaded under the first.
        await fixture.ReplyAsync(conversationId, "It is on its way.");
        var second = await fixture.Sink.WaitForAsync(m => m.To == email && (m.Message.TextBody ?? "").Contains("It is on its way.", StringComparison.Ordinal), "second offline reply");
        Assert.Equal(message.MessageId, second.Message.InReplyTo);
        Assert.Contains(message.MessageId, second.Message.References);
        Assert.Equal(2, fixture.Sink.To(email).Count());
    }

    [Fact]
    public async Task A_chinese_visitor_gets_the_reply_in_chinese()
    {
        var (_, key) = await fixture.InboxAsync();
        var email = $"li-{Guid.NewGuid():N}@example.com";
        var (conversationId, _) = await fixture.LeftMessageAsync(key, "李雷", email, "我的包裹还没到。", locale: "zh-CN");
        await fixture.ReplyAsync(conversationId, "您好，今天重新发货。");

        var mail = await fixture.Sink.WaitForAsync(m => m.To == email, "Chinese offline reply");
        Assert.Contains("回复了您的消息", mail.Message.Subject, StringComparison.Ordinal);
        Assert.Contains("您好，今天重新发货。", mail.Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("直接回复此邮件", mail.Message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_visitor_asks_for_the_transcript_and_gets_it_once_per_interval()
    {
        var (_, key) = await fixture.InboxAsync();
        var (conversationId, token) = await fixture.LeftMessageAsync(key, "Omar", $"omar-{Guid.NewGuid():N}@example.com", "Where is my order 42?");
        var other = $"omar-work-{Guid.NewGuid():N}@example.com";
        using var visitor = fixture.Http(token);

        var accepted = await visitor.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { email = other });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var mail = await fixture.Sink.WaitForAsync(m => m.To == other, "transcript on request");
        Assert.StartsWith("Your conversation with Acme", mail.Message.Subject, StringComparison.Ordinal);
        Assert.Contains("Where is my order 42?", mail.Message.TextBody, StringComparison.Ordinal);

        var again = await visitor.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { });
        Assert.Equal("rate_limited", await Desk.ProblemCode(again, HttpStatusCode.TooManyRequests));

        var bad = await visitor.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { email = "not an address" });
        Assert.Equal("invalid_field", await Desk.ProblemCode(bad, HttpStatusCode.BadRequest));

        // Someone else's conversation does not exist for this visitor; agents do not ask in the visitor's name.
        var (_, otherToken) = await fixture.LeftMessageAsync(key, "Eve", $"eve-{Guid.NewGuid():N}@example.com", "Hi");
        using var eve = fixture.Http(otherToken);
        Assert.Equal("not_found", await Desk.ProblemCode(
            await eve.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { }), HttpStatusCode.NotFound));
        using var admin = await fixture.AdminAsync();
        Assert.Equal("not_allowed", await Desk.ProblemCode(
            await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { }), HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task Resolving_in_an_inbox_with_transcripts_on_resolve_mails_the_transcript()
    {
        var (inboxId, key) = await fixture.InboxAsync(transcriptOnResolve: true);
        using (var admin = await fixture.AdminAsync())
        {
            var inboxes = await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"));
            var inbox = inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == inboxId);
            Assert.True(inbox.GetProperty("email").GetProperty("transcriptOnResolve").GetBoolean());
        }

        var email = $"ann-{Guid.NewGuid():N}@example.com";
        var (conversationId, _) = await fixture.LeftMessageAsync(key, "Ann", email, "Can I change my plan?");
        await fixture.ReplyAsync(conversationId, "Yes, done.");
        using (var admin = await fixture.AdminAsync())
        {
            await Desk.Ok(await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        }

        var transcript = await fixture.Sink.WaitForAsync(m => m.To == email && (m.Message.Subject ?? "").StartsWith("Your conversation", StringComparison.Ordinal), "transcript on resolve");
        Assert.Contains("Can I change my plan?", transcript.Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Yes, done.", transcript.Message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agents_are_notified_of_a_transfer_only_when_opted_in_and_without_a_console()
    {
        var (_, key) = await fixture.InboxAsync();
        var optedIn = await AgentWithPreferencesAsync(notifications: true);
        var optedOut = await AgentWithPreferencesAsync(notifications: false);
        var online = await AgentWithPreferencesAsync(notifications: true);
        await using var onlineSocket = await fixture.ConnectAsync(online.Token);

        var visitorName = "Kim " + Guid.NewGuid().ToString("N")[..6];
        var (conversationId, _) = await fixture.LeftMessageAsync(key, visitorName, $"kim-{Guid.NewGuid():N}@example.com", "Help with an invoice");
        using var admin = await fixture.AdminAsync();
        foreach (var agent in new[] { optedOut, online, optedIn })
        {
            await Desk.Ok(await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transfer", new { agentId = agent.Id }));
        }

        var mail = await fixture.Sink.WaitForAsync(m => m.To == optedIn.Email && About(m), "the opted-in agent's notification");
        Assert.Contains("transferred to you", mail.Message.Subject, StringComparison.Ordinal);
        Assert.Contains("https://kefu.test/console/", mail.Message.TextBody, StringComparison.Ordinal);
        Assert.Empty(mail.Message.ReplyTo); // an answer to a notification must not land in the conversation as the visitor

        // The trigger handles events in order: the earlier transfers were decided before this mail was made.
        Assert.DoesNotContain(fixture.Sink.To(optedOut.Email), About);
        Assert.DoesNotContain(fixture.Sink.To(online.Email), About);
        Assert.Single(fixture.Sink.To(optedIn.Email), About); // transferred, not also "assigned"

        bool About(CapturedMail m) => (m.Message.Subject ?? "").Contains(visitorName, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_new_conversation_nobody_online_can_take_is_told_to_opted_in_agents()
    {
        var (_, key) = await fixture.InboxAsync();
        var agent = await AgentWithPreferencesAsync(notifications: true);
        var visitorName = "Nia " + Guid.NewGuid().ToString("N")[..6];
        await fixture.LeftMessageAsync(key, visitorName, $"nia-{Guid.NewGuid():N}@example.com", "Is anyone there?");

        var mail = await fixture.Sink.WaitForAsync(m => m.To == agent.Email && (m.Message.Subject ?? "").Contains(visitorName, StringComparison.Ordinal),
            "the new-conversation notification");
        Assert.Contains($"New conversation from {visitorName}", mail.Message.Subject, StringComparison.Ordinal);
        Assert.Contains("Is anyone there?", mail.Message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_is_down_or_answers_4xx_gets_the_mail_later_exactly_once()
    {
        var (_, key) = await fixture.InboxAsync();
        var email = $"down-{Guid.NewGuid():N}@example.com";
        var (conversationId, token) = await fixture.LeftMessageAsync(key, "Dee", email, "Anyone there?");
        using var visitor = fixture.Http(token);

        await fixture.Sink.StopAsync();
        string mailId;
        try
        {
            var accepted = await Desk.Ok(await visitor.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { }));
            mailId = accepted.Str("mailId")!;
            await WaitForMailAsync(mailId, v => v.Attempts >= 2 && v.State == MailStates.Pending, "two failed attempts");
        }
        finally
        {
            fixture.Sink.RefuseNext(451, 2, email);
            fixture.Sink.Resume();
        }

        var sent = await WaitForMailAsync(mailId, v => v.State == MailStates.Sent, "sent");
        Assert.True(sent.Attempts >= 5, $"{sent.Attempts} attempts");
        Assert.Single(fixture.Sink.Mails, m => m.Message.MessageId == sent.MessageId);
    }

    [Fact]
    public async Task A_permanent_refusal_fails_the_mail_with_an_email_failed_event()
    {
        var (_, key) = await fixture.InboxAsync();
        var email = $"gone-{Guid.NewGuid():N}@example.com";
        var (conversationId, token) = await fixture.LeftMessageAsync(key, "Gus", email, "Hello");
        using var visitor = fixture.Http(token);
        fixture.Sink.RefuseNext(550, 1, email);
        var accepted = await Desk.Ok(await visitor.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transcript", new { }));
        var mailId = accepted.Str("mailId")!;

        var failed = await fixture.WaitForEventAsync("email.failed", d => d.Str("mailId") == mailId, "the refused mail's email.failed");
        var data = failed.GetProperty("data");
        Assert.Equal(conversationId, data.Str("conversationId"));
        Assert.Equal("transcript", data.Str("kind"));
        Assert.Equal(email, data.Str("to"));
        Assert.Contains("550", data.Str("error"), StringComparison.Ordinal);
        Assert.False(data.GetProperty("bounced").GetBoolean());
        Assert.Equal(1, data.GetProperty("attempts").GetInt32());
        var view = await WaitForMailAsync(mailId, v => v.State == MailStates.Failed, "failed");
        Assert.Equal(1, view.Attempts);
    }

    [Fact]
    public async Task The_same_cause_handled_twice_is_one_mail_and_a_bounce_fails_it()
    {
        var (_, key) = await fixture.InboxAsync();
        var email = $"twice-{Guid.NewGuid():N}@example.com";
        var (conversationId, _) = await fixture.LeftMessageAsync(key, "Tia", email, "Twice?");
        var thread = Grains.GetGrain<IMailThreadGrain>(Tenancy.Key("default", conversationId));
        var eventId = Ulid.NewUlid().ToString();
        var at = DateTimeOffset.UtcNow;
        await thread.TranscriptOnResolve(eventId, at);
        await thread.TranscriptOnResolve(eventId, at); // a trigger replaying the event after a crash

        var mail = await fixture.Sink.WaitForAsync(m => m.To == email, "the transcript");
        var mailId = MailIds.Of(at, "resolved:" + eventId, MailKinds.Transcript, email);
        var view = await WaitForMailAsync(mailId, v => v.State == MailStates.Sent, "sent");
        Assert.Equal(view.MessageId, mail.Message.MessageId);
        Assert.Single(fixture.Sink.To(email));

        await Grains.GetGrain<Kefu.Contracts.Grains.IOutboundMailGrain>(MailIds.Key("default", mailId)).Bounced("550 5.1.1 user unknown");
        var failed = await fixture.WaitForEventAsync("email.failed", d => d.Str("mailId") == mailId, "the bounce's email.failed");
        Assert.True(failed.GetProperty("data").GetProperty("bounced").GetBoolean());
        Assert.Equal("550 5.1.1 user unknown", failed.GetProperty("data").Str("error"));
        Assert.Equal(MailStates.Failed, (await WaitForMailAsync(mailId, v => v.Bounced, "bounced")).State);
    }

    private async Task<OutboundMailView> WaitForMailAsync(string mailId, Func<OutboundMailView, bool> condition, string what)
    {
        var grain = Grains.GetGrain<IOutboundMailControl>(MailIds.Key("default", mailId));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var view = await grain.Get();
            if (view is not null && condition(view))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for mail {mailId} to be {what}; it is {view}");
            await Task.Delay(20);
        }
    }

    private async Task<(string Id, string Token, string Email)> AgentWithPreferencesAsync(bool notifications)
    {
        var (id, token) = await fixture.CreateAgentAsync();
        var email = $"{id}@agents.example.com";
        using var http = fixture.Http(token);
        var response = await http.PutAsJsonAsync("/api/v1/agents/me/preferences", new { language = "en", email, emailNotifications = notifications });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (id, token, email);
    }
}
