using Kefu.Contracts.Messages;
using Kefu.Grains.Tenants;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>An inbox's widget colour, title and corner: normalised or refused, and the text colour always readable.</summary>
public sealed class InboxAppearanceRulesTests
{
    [Theory]
    [InlineData("#2563EB", "#2563eb")]
    [InlineData(" #abc ", "#aabbcc")]
    [InlineData("#000000", "#000000")]
    [InlineData("red", null)]
    [InlineData("#12345", null)]
    [InlineData("#ggg", null)]
    [InlineData("2563eb", null)]
    [InlineData("#2563eb;background:url(x)", null)]
    public void Colours_are_hex_only(string input, string? expected) => Assert.Equal(expected, InboxAppearanceRules.Color(input));

    [Fact]
    public void The_text_colour_contrasts_at_least_four_and_a_half_to_one_with_any_colour()
    {
        Assert.Equal("#000000", InboxAppearanceRules.TextOn("#ffffff"));
        Assert.Equal("#000000", InboxAppearanceRules.TextOn("#fde047")); // a pale yellow brand: dark text
        Assert.Equal("#ffffff", InboxAppearanceRules.TextOn("#2563eb"));
        Assert.Equal("#ffffff", InboxAppearanceRules.TextOn("#000000"));
        for (var i = 0; i < 4096; i++)
        {
            var color = $"#{i >> 8:x}{(i >> 4) & 0xF:x}{i & 0xF:x}";
            Assert.True(InboxAppearanceRules.ContrastRatio(color, InboxAppearanceRules.TextOn(color)) >= 4.5, color);
        }
    }

    [Fact]
    public void An_appearance_is_normalised_or_refused()
    {
        var ok = InboxAppearanceRules.Check(new InboxAppearance("#ABC", "  Help desk ", InboxAppearance.BottomLeft));
        Assert.Equal(new InboxAppearance("#aabbcc", "Help desk", "bottom-left"), ok.Value);
        Assert.Null(InboxAppearanceRules.Check(new InboxAppearance(" ", "", null)).Value);
        Assert.Null(InboxAppearanceRules.Check(null).Value);

        foreach (var bad in new[]
        {
            new InboxAppearance("blue"),
            new InboxAppearance(Position: "top-left"),
            new InboxAppearance(Title: new string('x', InboxAppearanceRules.MaxTitleLength + 1)),
            new InboxAppearance(Title: "Line\nbreak"),
        })
        {
            Assert.Equal(ErrorCodes.InvalidField, InboxAppearanceRules.Check(bad).Error?.Code);
        }
    }
}
