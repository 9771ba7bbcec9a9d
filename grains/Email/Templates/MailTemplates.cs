using System.Globalization;
using System.Net;
using System.Text;

namespace Kefu.Grains.Email.Templates;

/// <summary>One line of a conversation as a mail shows it.</summary>
public sealed record MailLine(string Author, bool FromVisitor, string Text, DateTimeOffset Ts);

/// <summary>A mail's subject and its two bodies.</summary>
public sealed record RenderedMail(string Subject, string Text, string Html);

/// <summary>Why an agent is told about a conversation.</summary>
public enum AgentNotice
{
    NewConversation,
    Assigned,
    Transferred,
}

/// <summary>
/// The mails Kefu writes (docs/email.md), in English or Chinese: plain text and a simple HTML alternative. Every value
/// that comes from a person (names, messages, inbox names) is HTML-encoded in the HTML body; nothing here reads a
/// template file, so there is nothing to inject into. Times are shown in the reader's time zone (UTC when unknown).
/// </summary>
public static class MailTemplates
{
    /// <summary>"zh" for a Chinese locale (zh, zh-CN, zh-Hant-TW …), else "en".</summary>
    public static string LanguageOf(string? locale) => Kefu.Contracts.Identity.VisitorLocale.IsChinese(locale) ? "zh" : "en";

    /// <summary>An agent's reply (or several) to a visitor who is away, with the conversation's recent history under it.</summary>
    public static RenderedMail OfflineReply(string language, string inboxName, string? visitorName, IReadOnlyList<MailLine> replies,
        IReadOnlyList<MailLine> history, TimeZoneInfo? zone = null)
    {
        var zh = language == "zh";
        var subject = zh ? $"{inboxName} 回复了您的消息" : $"New reply from {inboxName}";
        var greeting = zh
            ? (string.IsNullOrWhiteSpace(visitorName) ? "您好，" : $"{visitorName}，您好：")
            : (string.IsNullOrWhiteSpace(visitorName) ? "Hello," : $"Hello {visitorName},");
        var intro = zh ? "您不在线时，我们回复了您：" : "We answered you while you were away:";
        var historyTitle = zh ? "之前的对话" : "Earlier in the conversation";
        var footer = zh ? "直接回复此邮件即可继续对话。" : "Reply to this email to continue the conversation.";
        return Render(subject, greeting, intro, replies, history.Count > 0 ? historyTitle : null, history, null, footer, zone, zh);
    }

    /// <summary>The whole conversation (its newest <paramref name="lines"/>; <paramref name="omitted"/> older ones left out).</summary>
    public static RenderedMail Transcript(string language, string inboxName, string? visitorName, DateTimeOffset startedAt,
        IReadOnlyList<MailLine> lines, int omitted, TimeZoneInfo? zone = null)
    {
        var zh = language == "zh";
        var date = Local(startedAt, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var subject = zh ? $"您与 {inboxName} 的对话记录（{date}）" : $"Your conversation with {inboxName} ({date})";
        var greeting = zh
            ? (string.IsNullOrWhiteSpace(visitorName) ? "您好，" : $"{visitorName}，您好：")
            : (string.IsNullOrWhiteSpace(visitorName) ? "Hello," : $"Hello {visitorName},");
        var intro = zh ? "以下是您的对话记录：" : "Here is the transcript of your conversation:";
        string? note = omitted > 0 ? (zh ? $"（更早的 {omitted} 条消息未列出）" : $"({omitted} earlier messages are not shown)") : null;
        var footer = zh ? "如需继续对话，直接回复此邮件即可。" : "Reply to this email if you want to continue the conversation.";
        return Render(subject, greeting, intro, lines, null, [], note, footer, zone, zh);
    }

    /// <summary>Tells an agent without a console open about a new, assigned or transferred conversation.</summary>
    public static RenderedMail AgentNotification(string language, AgentNotice notice, string inboxName, string? visitorName, string? byName,
        string? preview, string? link)
    {
        var zh = language == "zh";
        var who = string.IsNullOrWhiteSpace(visitorName) ? (zh ? "访客" : "a visitor") : visitorName;
        var (subject, line) = (notice, zh) switch
        {
            (AgentNotice.NewConversation, true) => ($"[{inboxName}] {who} 发起了新对话", $"{who} 在 {inboxName} 发起了新对话，目前没有客服在线。"),
            (AgentNotice.NewConversation, false) => ($"[{inboxName}] New conversation from {who}", $"{who} started a conversation in {inboxName} and no agent is online."),
            (AgentNotice.Assigned, true) => ($"[{inboxName}] 与 {who} 的对话已分配给您", $"与 {who} 的对话已分配给您。"),
            (AgentNotice.Assigned, false) => ($"[{inboxName}] Conversation with {who} assigned to you", $"The conversation with {who} was assigned to you."),
            (AgentNotice.Transferred, true) => ($"[{inboxName}] 与 {who} 的对话已转给您", string.IsNullOrWhiteSpace(byName) ? $"与 {who} 的对话已转给您。" : $"{byName} 将与 {who} 的对话转给了您。"),
            _ => ($"[{inboxName}] Conversation with {who} transferred to you", string.IsNullOrWhiteSpace(byName) ? $"The conversation with {who} was transferred to you." : $"{byName} transferred the conversation with {who} to you."),
        };
        var open = zh ? "在控制台中打开" : "Open it in the console";
        var why = zh ? "您收到此邮件，是因为您开启了邮件通知且当前没有打开控制台。" : "You get this email because email notifications are on and you have no console open.";

        var text = new StringBuilder();
        text.Append(line).Append("\n\n");
        if (!string.IsNullOrWhiteSpace(preview))
        {
            text.Append(Quote(preview)).Append("\n\n");
        }

        if (link is not null)
        {
            text.Append(open).Append(": ").Append(link).Append("\n\n");
        }

        text.Append("-- \n").Append(why).Append('\n');

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><body style=\"font-family:sans-serif;font-size:14px;color:#222\">");
        html.Append("<p>").Append(Encode(line)).Append("</p>");
        if (!string.IsNullOrWhiteSpace(preview))
        {
            html.Append("<blockquote style=\"border-left:3px solid #ccc;margin:0;padding-left:10px;white-space:pre-wrap\">").Append(Encode(preview)).Append("</blockquote>");
        }

        if (link is not null)
        {
            html.Append("<p><a href=\"").Append(Encode(link)).Append("\">").Append(Encode(open)).Append("</a></p>");
        }

        html.Append("<p style=\"color:#888;font-size:12px\">").Append(Encode(why)).Append("</p></body></html>");
        return new RenderedMail(subject, text.ToString(), html.ToString());
    }

    private static RenderedMail Render(string subject, string greeting, string intro, IReadOnlyList<MailLine> lines, string? secondTitle,
        IReadOnlyList<MailLine> second, string? note, string footer, TimeZoneInfo? zone, bool zh)
    {
        var text = new StringBuilder();
        text.Append(greeting).Append("\n\n").Append(intro).Append("\n\n");
        if (note is not null)
        {
            text.Append(note).Append("\n\n");
        }

        AppendText(text, lines, zone, zh);
        if (secondTitle is not null)
        {
            text.Append("\n---- ").Append(secondTitle).Append(" ----\n\n");
            AppendText(text, second, zone, zh);
        }

        text.Append("\n-- \n").Append(footer).Append('\n');

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><body style=\"font-family:sans-serif;font-size:14px;color:#222\">");
        html.Append("<p>").Append(Encode(greeting)).Append("</p><p>").Append(Encode(intro)).Append("</p>");
        if (note is not null)
        {
            html.Append("<p style=\"color:#888\">").Append(Encode(note)).Append("</p>");
        }

        AppendHtml(html, lines, zone, zh);
        if (secondTitle is not null)
        {
            html.Append("<h4 style=\"color:#888;margin-top:24px\">").Append(Encode(secondTitle)).Append("</h4>");
            AppendHtml(html, second, zone, zh);
        }

        html.Append("<p style=\"color:#888;font-size:12px;margin-top:24px\">").Append(Encode(footer)).Append("</p></body></html>");
        return new RenderedMail(subject, text.ToString(), html.ToString());
    }

    private static void AppendText(StringBuilder text, IReadOnlyList<MailLine> lines, TimeZoneInfo? zone, bool zh)
    {
        foreach (var line in lines)
        {
            text.Append(Author(line, zh)).Append(" (").Append(Stamp(line.Ts, zone)).Append("):\n").Append(Quote(line.Text)).Append("\n\n");
        }
    }

    private static void AppendHtml(StringBuilder html, IReadOnlyList<MailLine> lines, TimeZoneInfo? zone, bool zh)
    {
        foreach (var line in lines)
        {
            var colour = line.FromVisitor ? "#f1f1f1" : "#e8f0fe";
            html.Append("<div style=\"margin:8px 0;padding:8px 12px;border-radius:8px;background:").Append(colour).Append("\">")
                .Append("<div style=\"font-size:12px;color:#666\"><b>").Append(Encode(Author(line, zh))).Append("</b> · ").Append(Encode(Stamp(line.Ts, zone))).Append("</div>")
                .Append("<div style=\"white-space:pre-wrap\">").Append(Encode(line.Text)).Append("</div></div>");
        }
    }

    private static string Author(MailLine line, bool zh) =>
        !string.IsNullOrWhiteSpace(line.Author) ? line.Author : line.FromVisitor ? (zh ? "您" : "You") : (zh ? "客服" : "Support");

    private static string Quote(string text) => "  " + text.ReplaceLineEndings("\n  ");

    private static string Stamp(DateTimeOffset ts, TimeZoneInfo? zone) =>
        Local(ts, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + (zone is null ? " UTC" : "");

    private static DateTimeOffset Local(DateTimeOffset ts, TimeZoneInfo? zone) => zone is null ? ts.ToUniversalTime() : TimeZoneInfo.ConvertTime(ts, zone);

    private static string Encode(string value) => WebUtility.HtmlEncode(value);
}
