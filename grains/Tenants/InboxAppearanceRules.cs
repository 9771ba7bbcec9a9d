using System.Globalization;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tenants;

/// <summary>
/// What an inbox's widget appearance may be, and the text colour that stays readable on its colour. The widget uses
/// <see cref="TextOn"/> from its configuration, so a pale brand colour gets dark text instead of unreadable white.
/// </summary>
public static class InboxAppearanceRules
{
    public const int MaxTitleLength = 60;

    private const string Light = "#ffffff";
    private const string Dark = "#000000";

    /// <summary>The appearance normalised (lower-case "#rrggbb", trimmed title, empty fields dropped), or why not.</summary>
    public static Outcome<InboxAppearance?> Check(InboxAppearance? appearance)
    {
        if (appearance is null)
        {
            return new Outcome<InboxAppearance?>(null, null);
        }

        var color = string.IsNullOrWhiteSpace(appearance.Color) ? null : Color(appearance.Color);
        if (color is null && !string.IsNullOrWhiteSpace(appearance.Color))
        {
            return KefuError.Invalid("appearance.color must be a hex colour such as '#2563eb' (or '#25e').");
        }

        var title = string.IsNullOrWhiteSpace(appearance.Title) ? null : appearance.Title.Trim();
        if (title is { Length: > MaxTitleLength } || (title is not null && title.Any(char.IsControl)))
        {
            return KefuError.Invalid($"appearance.title must be at most {MaxTitleLength} characters, without control characters.");
        }

        var position = string.IsNullOrWhiteSpace(appearance.Position) ? null : appearance.Position;
        if (position is not (null or InboxAppearance.BottomRight or InboxAppearance.BottomLeft))
        {
            return KefuError.Invalid("appearance.position must be 'bottom-right' or 'bottom-left'.");
        }

        return (color, title, position) is (null, null, null)
            ? new Outcome<InboxAppearance?>(null, null)
            : new InboxAppearance(color, title, position);
    }

    /// <summary>"#rgb" or "#rrggbb" (any case) as lower-case "#rrggbb"; null when it is neither.</summary>
    public static string? Color(string? value)
    {
        var v = value?.Trim();
        if (v is not { Length: 4 or 7 } || v[0] != '#' || !v.Skip(1).All(char.IsAsciiHexDigit))
        {
            return null;
        }

        var lower = v.ToLowerInvariant();
        return lower.Length == 7 ? lower : string.Concat("#", lower[1], lower[1], lower[2], lower[2], lower[3], lower[3]);
    }

    /// <summary>
    /// White or black, whichever contrasts more with <paramref name="color"/> (WCAG 2 contrast ratio): always at least
    /// 4.5:1, the WCAG AA level for body text, whatever the colour.
    /// </summary>
    public static string TextOn(string color)
    {
        var background = Luminance(color);
        return Ratio(Luminance(Light), background) >= Ratio(Luminance(Dark), background) ? Light : Dark;
    }

    /// <summary>The WCAG 2 contrast ratio of two colours, 1 to 21.</summary>
    public static double ContrastRatio(string a, string b) => Ratio(Luminance(a), Luminance(b));

    private static double Ratio(double x, double y) => (Math.Max(x, y) + 0.05) / (Math.Min(x, y) + 0.05);

    private static double Luminance(string color)
    {
        var hex = Color(color) ?? throw new ArgumentException($"'{color}' is not a hex colour.", nameof(color));
        return 0.2126 * Channel(hex, 1) + 0.7152 * Channel(hex, 3) + 0.0722 * Channel(hex, 5);

        static double Channel(string hex, int at)
        {
            var c = int.Parse(hex.AsSpan(at, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
    }
}
