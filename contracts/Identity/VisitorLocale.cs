namespace Kefu.Contracts.Identity;

/// <summary>
/// The visitor's language, kept as the visitor attribute <c>locale</c> (BCP 47, e.g. "zh-CN"): the widget sends it when
/// it creates the visitor, and the server writes its own default texts (the away message) in that language.
/// </summary>
public static class VisitorLocale
{
    public const string AttributeKey = "locale";

    /// <summary>A locale as a tag of letters, digits and '-' (at most 35 characters), else null.</summary>
    public static string? Normalize(string? locale) =>
        locale is { Length: >= 2 and <= 35 } && locale.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') ? locale : null;

    /// <summary>The attributes a visitor created with only a locale carries (null without one).</summary>
    public static Dictionary<string, string>? Attributes(string? locale) =>
        Normalize(locale) is { } tag ? new Dictionary<string, string> { [AttributeKey] = tag } : null;

    public static string? Of(IReadOnlyDictionary<string, string>? attributes) =>
        attributes is not null && attributes.TryGetValue(AttributeKey, out var locale) ? Normalize(locale) : null;

    public static bool IsChinese(string? locale) => locale is not null && locale.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
}
