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
}
