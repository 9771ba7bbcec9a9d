using Kefu.Grains.Activity;

namespace Kefu.Grains.Tests.Activity;

/// <summary>@mentions in a note: word boundaries, several mentions, unknown names and the author ignored.</summary>
public sealed class MentionParserTests
{
    private static readonly HashSet<string> Agents = ["ann", "bo", "chen.li", "dev-ops", "x_1"];

    [Theory]
    [InlineData("@ann please look", new[] { "ann" })]
    [InlineData("cc @bo, @chen.li and @dev-ops", new[] { "bo", "chen.li", "dev-ops" })]
    [InlineData("thanks @bo.", new[] { "bo" })]
    [InlineData("(@x_1) and\n@ann!", new[] { "x_1", "ann" })]
    [InlineData("@ANN and @Bo", new[] { "ann", "bo" })]
    [InlineData("@bo @bo @bo", new[] { "bo" })]
    [InlineData("@bo,@ann", new[] { "bo", "ann" })]
    [InlineData("你好@ann", new[] { "ann" })]
    public void Finds_each_known_agent_once_in_order(string text, string[] expected) =>
        Assert.Equal(expected, MentionParser.Parse(text, Agents, authorId: "someone"));

    [Theory]
    [InlineData("mail ann@example.com")]
    [InlineData("x@bo")]
    [InlineData("@annie and @b")]
    [InlineData("@ alone, @@, @")]
    [InlineData("no mentions at all")]
    [InlineData("")]
    [InlineData(null)]
    public void Addresses_partial_and_unknown_names_mention_nobody(string? text) =>
        Assert.Empty(MentionParser.Parse(text, Agents, authorId: null));

    [Fact]
    public void The_author_is_never_told_about_its_own_note() =>
        Assert.Equal(["bo"], MentionParser.Parse("@ann reminder for myself, @bo FYI", Agents, authorId: "ann"));

    [Fact]
    public void At_most_a_bounded_number_of_agents_are_told()
    {
        var many = Enumerable.Range(0, 50).Select(i => "agent" + i).ToHashSet();
        var text = string.Join(' ', many.Select(a => "@" + a));
        Assert.Equal(MentionParser.MaxMentions, MentionParser.Parse(text, many, null).Count);
    }
}
