using System.Text.Json;

namespace Kefu.Grains.Routing;

/// <summary>
/// A text with <c>{path}</c> placeholders (docs/routing.md, "Templates"). A placeholder is looked up in the extracted
/// values, then the event's data, then the last call's result; <c>#</c> and any other text is literal. A missing variable
/// fails the render (<see cref="TemplateResult.Missing"/>) — a reply is never sent with a hole in it.
/// STUB in the base commit: the language helper implements it.
/// </summary>
public sealed class Template
{
    private Template(string source) => Source = source;

    public string Source { get; }

    /// <summary>The placeholder paths in order of appearance (for dry runs and validation).</summary>
    public IReadOnlyList<string> Variables { get; private init; } = [];

    /// <summary>Parses <paramref name="source"/>; null and <paramref name="error"/> when a brace is unbalanced.</summary>
    public static Template? TryParse(string source, out string? error)
    {
        error = null;
        return new Template(source);
    }

    public TemplateResult Render(TemplateScope scope, bool urlEscape = false) => new(Source, null);
}

/// <summary>The rendered text, or the first variable that had no value.</summary>
public readonly record struct TemplateResult(string? Text, string? Missing)
{
    public bool Succeeded => Missing is null;
}

/// <summary>Where template variables come from, in lookup order.</summary>
public sealed record TemplateScope(IReadOnlyDictionary<string, string> Extracted, JsonElement EventData, JsonElement? LastResult);
