using Kefu.Grains.Email.Templates;

namespace Kefu.Grains.Tests.Email;

/// <summary>The mails' wording per language, and that every person's value is HTML-encoded in the HTML body.</summary>
public sealed class MailTemplatesTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 30, 0, TimeSpan.Zero);
    private const string Xss = "<script>alert('x')</script> & \"q\"";

    [Theory]
    [InlineData("zh", "zh")]
    [InlineData("zh-CN", "zh")]
    [InlineData("ZH-hant-TW", "zh")]
    [InlineData("en-GB", "en")]
    [InlineData("fr", "en")]
    [InlineData(null, "en")]
    public void The_language_follows_the_visitor_locale(string? locale, string language) => Assert.Equal(language, MailTemplates.LanguageOf(locale));

    [Fact]
    public void An_offline_reply_holds_the_replies_then_the_history_and_encodes_user_values()
    {
        var mail = MailTemplates.OfflineReply("en", "Acme " + Xss, "Ann " + Xss,
            [new MailLine("Bo", false, "Reply " + Xss, At)],
            [new MailLine("Ann", true, "Question\nsecond line", At.AddMinutes(-5))]);

        Assert.Equal("New reply from Acme " + Xss, mail.Subject); // a header, not HTML: MimeKit encodes it
        Assert.True(mail.Text.IndexOf("Reply " + Xss, StringComparison.Ordinal) < mail.Text.IndexOf("Question", StringComparison.Ordinal));
        Assert.Contains("Earlier in the conversation", mail.Text, StringComparison.Ordinal);
        Assert.Contains("  Question\n  second line", mail.Text, StringComparison.Ordinal);
        Assert.Contains("2026-12-07 09:30 UTC", mail.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", mail.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;", mail.Html, StringComparison.Ordinal);
        Assert.Contains("Reply to this email", mail.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chinese_offline_reply_is_in_chinese()
    {
        var mail = MailTemplates.OfflineReply("zh", "极客商店", "李雷", [new MailLine("小王", false, "已发货", At)], []);
        Assert.Equal("极客商店 回复了您的消息", mail.Subject);
        Assert.StartsWith("李雷，您好：", mail.Text, StringComparison.Ordinal);
        Assert.Contains("直接回复此邮件即可继续对话", mail.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("之前的对话", mail.Text, StringComparison.Ordinal); // no history, no heading
    }

    [Fact]
    public void A_transcript_names_its_date_and_the_messages_left_out()
    {
        var mail = MailTemplates.Transcript("en", "Acme", null, At, [new MailLine("", true, "Hi", At), new MailLine("", false, "Hello", At)], omitted: 3);
        Assert.Equal("Your conversation with Acme (2026-12-07)", mail.Subject);
        Assert.Contains("(3 earlier messages are not shown)", mail.Text, StringComparison.Ordinal);
        Assert.Contains("You (2026-12-07 09:30 UTC)", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Support (2026-12-07 09:30 UTC)", mail.Text, StringComparison.Ordinal);

        var zh = MailTemplates.Transcript("zh", "Acme", "李雷", At, [new MailLine("", true, "你好", At)], 0, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai"));
        Assert.Equal("您与 Acme 的对话记录（2026-12-07）", zh.Subject);
        Assert.Contains("您 (2026-12-07 17:30)", zh.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AgentNotice.NewConversation, "en", "[Acme] New conversation from Kim")]
    [InlineData(AgentNotice.Assigned, "en", "[Acme] Conversation with Kim assigned to you")]
    [InlineData(AgentNotice.Transferred, "en", "[Acme] Conversation with Kim transferred to you")]
    [InlineData(AgentNotice.NewConversation, "zh", "[Acme] Kim 发起了新对话")]
    [InlineData(AgentNotice.Assigned, "zh", "[Acme] 与 Kim 的对话已分配给您")]
    [InlineData(AgentNotice.Transferred, "zh", "[Acme] 与 Kim 的对话已转给您")]
    public void Agent_notifications_say_why(AgentNotice notice, string language, string subject)
    {
        var mail = MailTemplates.AgentNotification(language, notice, "Acme", "Kim", "Bo", "Preview " + Xss, "https://kefu.example/console/?a=1&b=2");
        Assert.Equal(subject, mail.Subject);
        Assert.Contains("https://kefu.example/console/?a=1&b=2", mail.Text, StringComparison.Ordinal);
        Assert.Contains("href=\"https://kefu.example/console/?a=1&amp;b=2\"", mail.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", mail.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_notification_without_a_visitor_name_or_link_still_reads()
    {
        var mail = MailTemplates.AgentNotification("en", AgentNotice.Transferred, "Acme", null, null, null, null);
        Assert.Equal("[Acme] Conversation with a visitor transferred to you", mail.Subject);
        Assert.DoesNotContain("href", mail.Html, StringComparison.Ordinal);
    }
}
