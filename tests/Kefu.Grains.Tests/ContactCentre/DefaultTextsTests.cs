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
}
