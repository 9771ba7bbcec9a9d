using System.Globalization;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Search;

/// <summary>What a result shows of a matching text, and the opaque paging cursor.</summary>
public static class SearchText
{
    /// <summary>How much of a text the index keeps for snippets (the tokens cover the whole text).</summary>
    public const int ExcerptLength = 1000;

    public const int SnippetLength = 160;

    /// <summary>Before the first hit a snippet keeps this much context.</summary>
    private const int Lead = 40;

    public static string Excerpt(string text) => text.Length <= ExcerptLength ? text : text[..ExcerptLength];

    /// <summary>
    /// About <see cref="SnippetLength"/> characters of <paramref name="text"/> around the first place a query token
    /// appears (case-insensitively), with an ellipsis where text was cut; the start of the text when none appears as typed
    /// (a full-width form, say).
    /// </summary>
    public static string Snippet(string text, IReadOnlyList<string> queryTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(queryTokens);
        var first = -1;
        foreach (var token in queryTokens)
        {
            var at = text.IndexOf(token, StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        var start = first <= Lead ? 0 : first - Lead;
        if (start > 0 && char.IsLowSurrogate(text[start]))
        {
            start--;
        }

        var length = Math.Min(SnippetLength, text.Length - start);
        if (length < text.Length - start && length > 0 && char.IsHighSurrogate(text[start + length - 1]))
        {
            length--;
        }

        var snippet = text.Substring(start, length).ReplaceLineEndings(" ");
        return (start > 0 ? "…" : "") + snippet + (start + length < text.Length ? "…" : "");
    }

    /// <summary>The public cursor of a position: microseconds since the epoch, '_', the conversation id.</summary>
    public static string FormatCursor(SearchPosition position)
    {
        ArgumentNullException.ThrowIfNull(position);
        var micros = (position.LastHitAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        return micros.ToString(CultureInfo.InvariantCulture) + "_" + position.ConversationId;
    }

    public static bool TryParseCursor(string? cursor, out SearchPosition? position)
    {
        position = null;
        var separator = cursor?.IndexOf('_', StringComparison.Ordinal) ?? -1;
        if (separator <= 0
            || !long.TryParse(cursor.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var micros)
            || micros > (DateTimeOffset.MaxValue.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10
            || !Ulid.TryParse(cursor.AsSpan(separator + 1), out var id))
        {
            return false;
        }

        position = new SearchPosition(new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + (micros * 10), TimeSpan.Zero), id.ToString());
        return true;
    }

    /// <summary>Whether a result at (<paramref name="at"/>, <paramref name="conversationId"/>) comes after <paramref name="position"/> in result order.</summary>
    public static bool IsAfter(DateTimeOffset at, string conversationId, SearchPosition? position) =>
        position is null || at < position.LastHitAt
        || (at == position.LastHitAt && string.CompareOrdinal(conversationId, position.ConversationId) < 0);

    /// <summary>Microsecond precision, as the database keeps times (so a cursor compares equal to the row it came from).</summary>
    public static DateTimeOffset Micros(DateTimeOffset value) => new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);
}
