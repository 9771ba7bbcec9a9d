using Kefu.Contracts.Grains;
using Kefu.Grains.Search;

namespace Kefu.Grains.Tests.Search;

public sealed class SearchTextTests
{
    [Fact]
    public void A_snippet_shows_the_text_around_the_first_hit()
    {
        var text = new string('x', 300) + " the REFUND was sent " + new string('y', 300);
        var snippet = SearchText.Snippet(text, ["refund"]);
        Assert.StartsWith("…", snippet, StringComparison.Ordinal);
        Assert.EndsWith("…", snippet, StringComparison.Ordinal);
        Assert.Contains("REFUND was sent", snippet, StringComparison.Ordinal);
        Assert.True(snippet.Length <= SearchText.SnippetLength + 2);
        Assert.Equal("short 退款 text", SearchText.Snippet("short 退款 text", ["退款"]));
        Assert.Equal("line one line two", SearchText.Snippet("line one\nline two", ["zzz"]));
    }

    [Fact]
    public void A_snippet_never_cuts_a_surrogate_pair()
    {
        var text = new string('a', 100) + string.Concat(Enumerable.Repeat("😀", 100)) + " hit";
        var snippet = SearchText.Snippet(text, ["hit"]);
        Assert.False(char.IsLowSurrogate(snippet.TrimStart('…')[0]));
        Assert.False(char.IsHighSurrogate(snippet.TrimEnd('…')[^1]));
    }

    [Fact]
    public void Cursors_round_trip_and_garbage_is_refused()
    {
        var position = new SearchPosition(SearchText.Micros(DateTimeOffset.UtcNow), Ulid.NewUlid().ToString());
        Assert.True(SearchText.TryParseCursor(SearchText.FormatCursor(position), out var parsed));
        Assert.Equal(position, parsed);
        foreach (var bad in new[] { "", "_", "12", "abc_01J", "-5_" + Ulid.NewUlid(), "1_notaulid", "99999999999999999999_" + Ulid.NewUlid() })
        {
            Assert.False(SearchText.TryParseCursor(bad, out _), bad);
        }
    }
}
