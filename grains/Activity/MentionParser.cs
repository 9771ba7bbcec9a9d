namespace Kefu.Grains.Activity;

/// <summary>
/// Finds the agents a note mentions: <c>@id</c> where id is an agent id of the tenant (a-z, 0-9, '-', '_', '.'; matched
/// without regard to case). A mention starts a word: "ann@example.com" mentions nobody. A trailing dot ends the
/// sentence, not the name ("thanks @bo." mentions bo). Unknown names and the author are ignored; each agent once, in
/// the order first mentioned.
/// </summary>
public static class MentionParser
{
    /// <summary>At most this many agents are told about one note, however many it names.</summary>
    public const int MaxMentions = 20;

    private const int MaxNameLength = 64;

    public static IReadOnlyList<string> Parse(string? text, IReadOnlySet<string> agentIds, string? authorId)
    {
        ArgumentNullException.ThrowIfNull(agentIds);
        var found = new List<string>();
        if (string.IsNullOrEmpty(text))
        {
            return found;
        }

        for (var i = text.IndexOf('@'); i >= 0 && found.Count < MaxMentions; i = text.IndexOf('@', i + 1))
        {
            if (i > 0 && IsNameChar(text[i - 1]))
            {
                continue; // inside a word: an email address, not a mention
            }

            var end = i + 1;
            while (end < text.Length && IsNameChar(text[end]))
            {
                end++;
            }

            var name = text[(i + 1)..end].TrimEnd('.').ToLowerInvariant();
            if (name.Length is 0 or > MaxNameLength
                || string.Equals(name, authorId, StringComparison.Ordinal)
                || !agentIds.Contains(name)
                || found.Contains(name))
            {
                continue;
            }

            found.Add(name);
        }

        return found;
    }

    private static bool IsNameChar(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '_' or '.';
}
