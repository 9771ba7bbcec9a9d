using Kefu.Grains.Conversations;

namespace Kefu.Grains.Tests.ContactCentre;

public sealed class DefaultTextsTests
{
    [Theory]
    [InlineData("zh-CN", DefaultTexts.AwayMessageChinese)]
    [InlineData("zh", DefaultTexts.AwayMessageChinese)]
    [InlineData("ZH-tw", DefaultTexts.AwayMessageChinese)]
    [InlineData("en", DefaultTexts.AwayMessageEnglish)]
    [InlineData("de-DE", DefaultTexts.AwayMessageEnglish)]
    [InlineData(null, DefaultTexts.AwayMessageEnglish)]
    public void The_default_away_message_speaks_the_visitors_language(string? locale, string expected) =>
        Assert.Equal(expected, DefaultTexts.AwayMessage(locale));

    [Theory]
    [InlineData("zh-CN", "请填写您的姓名（1 到 128 个字符）。", "请填写有效的邮箱地址。", "请填写留言内容（不超过 4000 个字符）。")]
    [InlineData("en-US", "name must be 1 to 128 characters.", "email is not a valid address.", "text must be 1 to 4000 characters and not blank.")]
    [InlineData(null, "name must be 1 to 128 characters.", "email is not a valid address.", "text must be 1 to 4000 characters and not blank.")]
    public void The_leave_a_message_forms_refusals_speak_the_visitors_language(string? locale, string name, string email, string text)
    {
        Assert.Equal(name, DefaultTexts.LeftMessageName(locale, 128));
        Assert.Equal(email, DefaultTexts.LeftMessageEmail(locale));
        Assert.Equal(text, DefaultTexts.LeftMessageText(locale, 4000));
    }
}
