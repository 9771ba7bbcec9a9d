using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kefu.Grains.Routing;

/// <summary>
/// A text with <c>{path}</c> placeholders (docs/routing.md, "Templates"). A placeholder is looked up in the extracted
/// values, then the event's data, then the last call's result; <c>#</c> and any other text is literal. A missing variable
/// fails the render (<see cref="TemplateResult.Missing"/>) — a reply is never sent with a hole in it. <c>{{</c> and
/// <c>}}</c> stand for literal braces.
/// </summary>
public sealed class Template
{
    // Literal text and placeholders alternate; a placeholder's path is pre-split so rendering does not split strings.
    private readonly Part[] parts;

    private Template(string source, Part[] parts, IReadOnlyList<string> variables)
    {
        Source = source;
        this.parts = parts;
        Variables = variables;
    }

    public string Source { get; }

    /// <summary>The placeholder paths in order of appearance (for dry runs and validation).</summary>
    public IReadOnlyList<string> Variables { get; private init; }

    /// <summary>Parses <paramref name="source"/>; null and <paramref name="error"/> when a brace is unbalanced.</summary>
    public static Template? TryParse(string source, out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parts = new List<Part>();
        var variables = new List<string>();
        var literal = new StringBuilder();
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (c == '{')
            {
                if (i + 1 < source.Length && source[i + 1] == '{')
                {
                    literal.Append('{');
                    i++;
                    continue;
                }

                var close = source.IndexOf('}', i + 1);
                var nextOpen = source.IndexOf('{', i + 1);
                if (close < 0 || (nextOpen >= 0 && nextOpen < close))
                {
                    error = $"unclosed '{{' at position {i + 1} (write '{{{{' for a literal brace)";
                    return null;
                }

                var path = source[(i + 1)..close].Trim();
                if (path.Length == 0 || path.AsSpan().IndexOfAny(" \t\r\n") >= 0 || path.StartsWith('.') || path.EndsWith('.') || path.Contains("..", StringComparison.Ordinal))
                {
                    error = $"invalid placeholder '{{{source[(i + 1)..close]}}}': expected a name or dotted path like {{order_id}} or {{order.id}}";
                    return null;
                }

                if (literal.Length > 0)
                {
                    parts.Add(new Part(literal.ToString(), null, null));
                    literal.Clear();
                }

                parts.Add(new Part(null, path, path.Split('.')));
                variables.Add(path);
                i = close;
            }
            else if (c == '}')
            {
                if (i + 1 < source.Length && source[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }

                error = $"unmatched '}}' at position {i + 1} (write '}}}}' for a literal brace)";
                return null;
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0)
        {
            parts.Add(new Part(literal.ToString(), null, null));
        }

        error = null;
        return new Template(source, [.. parts], variables.Distinct(StringComparer.Ordinal).ToArray());
    }

    /// <summary>The text with every placeholder filled (URL-escaped when <paramref name="urlEscape"/>), or the first missing one.</summary>
    public TemplateResult Render(TemplateScope scope, bool urlEscape = false)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (parts.Length == 1 && parts[0].Literal is { } only)
        {
            return new(only, null);
        }

        var builder = new StringBuilder(Source.Length + 16);
        foreach (var part in parts)
        {
            if (part.Literal is not null)
            {
                builder.Append(part.Literal);
                continue;
            }

            if (!TryLookup(scope, part.Path!, part.Segments!, out var value))
            {
                return new(null, part.Path);
            }

            builder.Append(urlEscape ? Uri.EscapeDataString(value) : value);
        }

        return new(builder.ToString(), null);
    }

    /// <summary>Every placeholder that has no value in <paramref name="scope"/> (a dry run lists them all, not just the first).</summary>
    public IReadOnlyList<string> Unresolved(TemplateScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        List<string>? missing = null;
        foreach (var part in parts)
        {
            if (part.Path is not null && !TryLookup(scope, part.Path, part.Segments!, out _) && !(missing ??= []).Contains(part.Path))
            {
                missing.Add(part.Path);
            }
        }

        return missing is null ? [] : missing;
    }

    public override string ToString() => Source;

    /// <summary>Extracted values (whole path as the name), then the event data, then the last call's result.</summary>
    internal static bool TryLookup(TemplateScope scope, string path, string[] segments, out string value)
    {
        if (scope.Extracted.TryGetValue(path, out var extracted))
        {
            value = extracted;
            return true;
        }

        if (JsonPath.TryGet(scope.EventData, segments, out var element) && TryFormat(element, out value))
        {
            return true;
        }

        if (scope.LastResult is { } last && JsonPath.TryGet(last, segments, out element) && TryFormat(element, out value))
        {
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>Strings as they are, numbers and booleans as JSON writes them, objects/arrays as JSON; null is no value.</summary>
    internal static bool TryFormat(JsonElement element, out string value)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                value = element.GetString()!;
                return true;
            case JsonValueKind.Number:
                value = element.GetRawText();
                return true;
            case JsonValueKind.True:
                value = "true";
                return true;
            case JsonValueKind.False:
                value = "false";
                return true;
            case JsonValueKind.Object:
            case JsonValueKind.Array:
                value = element.GetRawText();
                return true;
            default:
                value = "";
                return false;
        }
    }

    private sealed record Part(string? Literal, string? Path, string[]? Segments);
}

/// <summary>The rendered text, or the first variable that had no value.</summary>
public readonly record struct TemplateResult(string? Text, string? Missing)
{
    public bool Succeeded => Missing is null;
}

/// <summary>Where template variables come from, in lookup order.</summary>
public sealed record TemplateScope(IReadOnlyDictionary<string, string> Extracted, JsonElement EventData, JsonElement? LastResult);

/// <summary>Dotted paths into JSON: <c>order.items.0.sku</c> (a numeric segment indexes an array).</summary>
internal static class JsonPath
{
    public static bool TryGet(JsonElement root, string[] segments, out JsonElement element)
    {
        element = root;
        foreach (var segment in segments)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    if (!element.TryGetProperty(segment, out element))
                    {
                        return false;
                    }

                    break;
                case JsonValueKind.Array:
                    if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= element.GetArrayLength())
                    {
                        return false;
                    }

                    element = element[index];
                    break;
                default:
                    return false;
            }
        }

        return element.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);
    }
}
