using Kefu.Contracts.Identity;

namespace Kefu.Grains.Conversations;

/// <summary>
/// Texts the server writes into a conversation when the inbox has none of its own, in the visitor's language
/// (English or Simplified Chinese, like the widget). An inbox's own text is always used as written.
/// </summary>
public static class DefaultTexts
{
    public const string AwayMessageEnglish = "We're away right now. Leave your message here and we'll reply as soon as we're back.";

    public const string AwayMessageChinese = "我们暂时不在线。请在这里留言，我们回来后会尽快回复您。";

    public static string AwayMessage(string? locale) => VisitorLocale.IsChinese(locale) ? AwayMessageChinese : AwayMessageEnglish;

    // The leave-a-message form's refusals: the widget shows the problem's detail under the form, so it is written to the
    // visitor like the away message (the problem's code stays the same in every language, for programs).

    /// <summary>The form's name is missing or too long.</summary>
    public static string LeftMessageName(string? locale, int max) => VisitorLocale.IsChinese(locale)
        ? $"请填写您的姓名（1 到 {max} 个字符）。"
        : $"name must be 1 to {max} characters.";

    /// <summary>The form's email address is not one.</summary>
    public static string LeftMessageEmail(string? locale) => VisitorLocale.IsChinese(locale)
        ? "请填写有效的邮箱地址。"
        : "email is not a valid address.";

    /// <summary>The form's message is blank or too long.</summary>
    public static string LeftMessageText(string? locale, int max) => VisitorLocale.IsChinese(locale)
        ? $"请填写留言内容（不超过 {max} 个字符）。"
        : $"text must be 1 to {max} characters and not blank.";
}
