using Kefu.Grains.Search;

namespace Kefu.Grains.Tests.Search;

public sealed class SearchTokenizerTests
{
    [Fact]
    public void Chinese_is_indexed_as_characters_and_pairs_and_a_query_needs_its_pairs()
    {
        Assert.Equal(["我", "想", "退", "款", "我想", "想退", "退款"], SearchTokenizer.IndexTokens("我想退款"));
        Assert.Equal(["退款"], SearchTokenizer.QueryTokens("退款"));
        Assert.Equal(["款"], SearchTokenizer.QueryTokens("款"));
        Assert.Equal(["申请", "请退", "退款"], SearchTokenizer.QueryTokens("申请退款"));
    }

    [Fact]
    public void Every_substring_of_a_cjk_text_finds_it_and_a_reordered_one_does_not()
    {
        const string text = "お客様の注文をキャンセルしました。배송이 늦어요";
        var indexed = SearchTokenizer.IndexTokens(text).ToHashSet(StringComparer.Ordinal);
        foreach (var part in new[] { "キャンセル", "注文", "様", "배송", "늦어요", "お客様の注文" })
        {
            Assert.All(SearchTokenizer.QueryTokens(part), t => Assert.Contains(t, indexed));
        }

        Assert.DoesNotContain(SearchTokenizer.QueryTokens("文注"), t => indexed.Contains(t));
    }

    [Fact]
    public void Width_and_case_fold_so_full_width_letters_and_half_width_kana_match()
    {
        Assert.Equal(["refund"], SearchTokenizer.QueryTokens("ＲＥＦＵＮＤ"));
        Assert.Equal(SearchTokenizer.QueryTokens("キャンセル"), SearchTokenizer.QueryTokens("ｷｬﾝｾﾙ"));
        Assert.Equal("ガイドブック・パン・ヴ", SearchTokenizer.FoldWidth("ｶﾞｲﾄﾞﾌﾞｯｸ･ﾊﾟﾝ･ｳﾞ"));
        Assert.Equal(["straße"], SearchTokenizer.QueryTokens("STRAßE"));
    }

    [Fact]
    public void Mixed_text_splits_words_from_cjk_runs()
    {
        Assert.Equal(["iphone15", "手", "机", "手机", "坏", "了", "坏了", "order", "12345"],
            SearchTokenizer.IndexTokens("iPhone15手机 坏了 (order #12345)"));
    }

    [Fact]
    public void Punctuation_and_emoji_separate_and_make_no_tokens()
    {
        Assert.Equal(["hello", "world", "it", "s", "fine"], SearchTokenizer.IndexTokens("Hello, world! It's—fine..."));
        Assert.Equal(["退", "款", "退款", "refund", "ok"], SearchTokenizer.IndexTokens("退款😀refund 👍🏽 ok!!"));
        Assert.Empty(SearchTokenizer.QueryTokens("?! 😀 -- 。，"));
        Assert.Empty(SearchTokenizer.QueryTokens(""));
    }

    [Fact]
    public void Combining_marks_stay_in_their_word_and_long_words_are_cut()
    {
        Assert.Equal(["cafe\u0301", "au", "lait"], SearchTokenizer.QueryTokens("cafe\u0301 au lait"));
        var word = SearchTokenizer.IndexTokens(new string('a', 500));
        Assert.Equal(SearchTokenizer.MaxWordLength, Assert.Single(word).Length);
    }

    [Fact]
    public void Repeated_tokens_are_kept_once()
    {
        Assert.Equal(["ok"], SearchTokenizer.IndexTokens("ok OK Ok ok"));
        Assert.Equal(["哈", "哈哈"], SearchTokenizer.IndexTokens("哈哈哈"));
    }

    [Fact]
    public void A_hash_is_a_fixed_ascii_word_that_depends_on_the_tenant()
    {
        var hash = SearchTokenizer.Hash("acme", "退款");
        Assert.Equal(14, hash.Length);
        Assert.StartsWith("t", hash, StringComparison.Ordinal);
        Assert.Matches("^t[a-z2-7]{13}$", hash);
        Assert.Equal(hash, SearchTokenizer.Hash("acme", "退款"));
        Assert.NotEqual(hash, SearchTokenizer.Hash("other", "退款"));
        Assert.NotEqual(hash, SearchTokenizer.Hash("acme", "退"));
        Assert.Equal(string.Join(' ', SearchTokenizer.IndexTokens("a b").Select(t => SearchTokenizer.Hash("acme", t))), SearchTokenizer.IndexWords("acme", "a b"));
    }
}
