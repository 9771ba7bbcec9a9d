using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Kefu.Grains.Search;

/// <summary>
/// Turns text into search tokens in the application, so the database needs neither an n-gram parser (MariaDB has
/// none) nor particular server settings (minimum token size, stopwords). Text is width-folded (full-width ASCII and
/// half-width katakana to their usual forms, as NFKC would: the processes run with invariant globalization, so
/// <c>string.Normalize</c> has no Unicode data and this is done here) and lower-cased; a run of letters and digits outside CJK is one word
/// token; a run of CJK characters (Han, Kana, Hangul), which has no spaces between words, gives every character and
/// every pair of neighbouring characters, so any one- or two-character query finds it and a longer one finds it through
/// its pairs. Everything else (spaces, punctuation, emoji, symbols) separates tokens.
/// <para>
/// Each token is then hashed with the tenant into a fixed word of 14 lower-case ASCII letters and digits
/// (<see cref="Hash"/>): long enough for any full-text minimum, never a stopword, and two tenants' equal words are
/// different tokens, so one tenant's query cannot match another's rows even before the tenant filter.
/// </para>
/// </summary>
public static class SearchTokenizer
{
    /// <summary>Longer words are cut here (the rest of a 500-letter "word" adds nothing a query would type).</summary>
    public const int MaxWordLength = 64;

    /// <summary>A query with more distinct tokens than this is refused (each is one more posting list to intersect).</summary>
    public const int MaxQueryTokens = 32;

    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>The tokens of a text to index: words, and CJK characters and pairs; distinct, in first-seen order.</summary>
    public static IReadOnlyList<string> IndexTokens(string? text) => Tokenize(text, forQuery: false);

    /// <summary>
    /// The tokens a query requires: words, and CJK pairs (a lone CJK character stands for itself); distinct. All must be
    /// present: a query of several words finds texts with all of them, in any order.
    /// </summary>
    public static IReadOnlyList<string> QueryTokens(string? text) => Tokenize(text, forQuery: true);

    /// <summary>The token as stored: <c>t</c> and 13 base-32 digits of the first 64 bits of SHA-256(tenant, token).</summary>
    public static string Hash(string tenant, string token)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(token);
        var input = Encoding.UTF8.GetBytes(tenant + "\u0001" + token);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(input, digest);
        var bits = BitConverter.ToUInt64(digest[..8]);
        Span<char> word = stackalloc char[14];
        word[0] = 't';
        for (var i = 1; i < word.Length; i++)
        {
            word[i] = Base32[(int)(bits & 31)];
            bits >>= 5;
        }

        return new string(word);
    }

    /// <summary>
    /// The time-bucket token of a row written at <paramref name="at"/>: its UTC day. Text never makes a token with
    /// ':' (punctuation separates words), so these cannot collide with words. The MySQL index adds them to every row and a
    /// search first asks for the newest buckets only (docs/search.md, "Searching").
    /// </summary>
    public static string[] BucketTokens(DateTimeOffset at)
    {
        return [DayBucket(at.UtcDateTime)];
    }

    public static string DayBucket(DateTime utc) => "d:" + utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The indexed column's value for a text: its hashed tokens separated by spaces.</summary>
    public static string IndexWords(string tenant, string? text) =>
        string.Join(' ', IndexTokens(text).Select(t => Hash(tenant, t)));

    private static List<string> Tokenize(string? text, bool forQuery)
    {
        var tokens = new List<string>();
        if (string.IsNullOrEmpty(text))
        {
            return tokens;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string token)
        {
            if (seen.Add(token))
            {
                tokens.Add(token);
            }
        }

        var normalized = FoldWidth(text).ToLowerInvariant();
        var word = new StringBuilder();
        var cjk = new List<string>(); // one entry per character (a Han character beyond the BMP is two chars)

        void FlushWord()
        {
            if (word.Length > 0)
            {
                Add(word.Length > MaxWordLength ? word.ToString(0, MaxWordLength) : word.ToString());
                word.Clear();
            }
        }

        void FlushCjk()
        {
            if (cjk.Count == 0)
            {
                return;
            }

            // Indexed: every character (for one-character queries) and every pair. Queried: the pairs, which cover
            // every character and keep the order of neighbours; a lone character is itself.
            if (!forQuery || cjk.Count == 1)
            {
                foreach (var character in cjk)
                {
                    Add(character);
                }
            }

            for (var i = 0; i + 1 < cjk.Count; i++)
            {
                Add(cjk[i] + cjk[i + 1]);
            }

            cjk.Clear();
        }

        foreach (var rune in normalized.EnumerateRunes())
        {
            if (IsCjk(rune))
            {
                FlushWord();
                cjk.Add(rune.ToString());
            }
            else if (IsWordPart(rune))
            {
                FlushCjk();
                word.Append(rune.ToString());
            }
            else
            {
                FlushWord();
                FlushCjk();
            }
        }

        FlushWord();
        FlushCjk();
        return tokens;
    }

    /// <summary>
    /// Full-width ASCII (ＡＢＣ１２３) to ASCII and half-width katakana (ｷｬﾝｾﾙ, with their sound marks) to full-width, the
    /// parts of NFKC that matter for finding text typed with a CJK input method.
    /// </summary>
    public static string FoldWidth(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Any(c => c is >= '\uFF01' and <= '\uFF9F'))
        {
            return text;
        }

        var folded = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c is >= '\uFF01' and <= '\uFF5E')
            {
                folded.Append((char)(c - 0xFEE0));
            }
            else if (c is >= '\uFF61' and <= '\uFF9D')
            {
                folded.Append(HalfWidthKana[c - 0xFF61]);
            }
            else if (c is '\uFF9E' or '\uFF9F' && folded.Length > 0)
            {
                // A voiced (ﾞ) or semi-voiced (ﾟ) mark joins the kana before it: カ+ﾞ = ガ, ハ+ﾟ = パ, ウ+ﾞ = ヴ.
                var previous = folded[^1];
                var voiced = c == '\uFF9E';
                if (voiced && previous == 'ウ')
                {
                    folded[^1] = 'ヴ';
                }
                else if (voiced && SoundMarkBase.Contains(previous, StringComparison.Ordinal))
                {
                    folded[^1] = (char)(previous + 1);
                }
                else if (!voiced && "ハヒフヘホ".Contains(previous, StringComparison.Ordinal))
                {
                    folded[^1] = (char)(previous + 2);
                }
            }
            else
            {
                folded.Append(c);
            }
        }

        return folded.ToString();
    }

    /// <summary>U+FF61 to U+FF9D as full-width punctuation and katakana.</summary>
    private const string HalfWidthKana = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

    /// <summary>The kana whose voiced form is the next code point (the ones a half-width kana can be).</summary>
    private const string SoundMarkBase = "カキクケコサシスセソタチツテトハヒフヘホ";

    private static bool IsWordPart(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => true,
        _ => false,
    };

    /// <summary>Scripts written without spaces between words: Han, Hiragana, Katakana (with its long-vowel mark), Hangul.</summary>
    public static bool IsCjk(Rune rune)
    {
        var c = rune.Value;
        return c is >= 0x4E00 and <= 0x9FFF // CJK Unified Ideographs
            or >= 0x3400 and <= 0x4DBF // Extension A
            or >= 0x20000 and <= 0x323AF // Extensions B–H
            or >= 0xF900 and <= 0xFAFF // Compatibility Ideographs
            or 0x3005 or 0x3007 // 々 〇
            or >= 0x3041 and <= 0x309F // Hiragana
            or >= 0x30A0 and <= 0x30FF // Katakana (ー included)
            or >= 0x31F0 and <= 0x31FF // Katakana phonetic extensions
            or >= 0xAC00 and <= 0xD7AF // Hangul syllables
            or >= 0x1100 and <= 0x11FF // Hangul Jamo
            or >= 0x3130 and <= 0x318F; // Hangul compatibility Jamo
    }
}
