using System.Text.Json;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;

namespace Kefu.Grains.Plugins;

/// <summary>
/// Reads a plugin's JSON manifest (docs/plugins.md "Manifest": snake_case, every field but <c>hooks</c> defaulted) into
/// a <see cref="PluginManifest"/>. Strict on purpose: an unknown or misspelled field (<c>allowed_host</c>, <c>timeout</c>)
/// is refused with its name rather than silently ignored, because an ignored limit or host list would make the plugin
/// run with defaults its author did not mean. What the values must be (hook names, on_error, limits against the server's
/// maximums, config size) is checked later by <see cref="PluginRegistryRules"/> and the engine; this only reads.
/// </summary>
public static class PluginManifestReader
{
    public const int MaxVersionLength = 64;
    public const int MaxDescriptionLength = 500;

    private static readonly string[] Fields = ["name", "version", "description", "hooks", "limits", "wasi", "allowed_hosts", "on_error", "config"];
    private static readonly string[] LimitFields = ["fuel", "timeout_ms", "memory_mb"];

    /// <summary>
    /// The manifest in <paramref name="json"/>, or a <see cref="PluginErrorCodes.InvalidManifest"/> error whose message
    /// names the field. <paramref name="urlName"/> is the plugin name of the upload URL: the default for <c>name</c>.
    /// </summary>
    public static Outcome<PluginManifest> Read(string json, string urlName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            return Invalid($"the manifest is not valid JSON ({Position(e)})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Invalid("the manifest must be a JSON object");
            }

            if (CheckFields(root, Fields, string.Empty) is { } fieldProblem)
            {
                return Invalid(fieldProblem);
            }

            var problem = (string?)null;
            var name = String(root, "name", urlName, ref problem);
            var version = String(root, "version", "0", ref problem);
            var description = String(root, "description", null, ref problem);
            var hooks = Strings(root, "hooks", null, ref problem);
            var wasi = Bool(root, "wasi", false, ref problem);
            var allowedHosts = Strings(root, "allowed_hosts", [], ref problem);
            var onError = String(root, "on_error", PluginManifest.OnErrorAllow, ref problem);
            var limits = Limits(root, ref problem);
            var config = Config(root, ref problem);
            if (problem is not null)
            {
                return Invalid(problem);
            }

            if (hooks is null)
            {
                return Invalid("hooks is required: a list of " + string.Join(", ", PluginHooks.All));
            }

            if (version!.Length is 0 or > MaxVersionLength)
            {
                return Invalid($"version must be 1 to {MaxVersionLength} characters");
            }

            if (description is { Length: > MaxDescriptionLength })
            {
                return Invalid($"description must be at most {MaxDescriptionLength} characters");
            }

            return new PluginManifest(name!, version, [.. hooks.Distinct(StringComparer.Ordinal)], limits!, wasi, allowedHosts!, onError!, config!,
                string.IsNullOrEmpty(description) ? null : description);
        }
    }

    private static KefuError Invalid(string reason) => new(PluginErrorCodes.InvalidManifest, reason);

    private static string Position(JsonException e) =>
        e.LineNumber is { } line ? $"line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1}" : "unreadable";

    /// <summary>The first member that is not one of <paramref name="known"/>, or that appears twice.</summary>
    private static string? CheckFields(JsonElement obj, string[] known, string prefix)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in obj.EnumerateObject())
        {
            if (!known.Contains(member.Name, StringComparer.Ordinal))
            {
                return $"unknown field '{prefix}{member.Name}' (known: {string.Join(", ", known)})";
            }

            // JSON allows a repeated key and readers disagree on which one wins: refuse rather than guess.
            if (!seen.Add(member.Name))
            {
                return $"field '{prefix}{member.Name}' appears twice";
            }
        }

        return null;
    }

    // Absent and null both mean "the default": a generated manifest often writes every field.
    private static bool TryGet(JsonElement obj, string name, out JsonElement value) =>
        obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string? String(JsonElement obj, string name, string? fallback, ref string? problem)
    {
        if (!TryGet(obj, name, out var value))
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problem ??= $"{name} must be a string";
            return fallback;
        }

        return value.GetString();
    }

    private static bool Bool(JsonElement obj, string name, bool fallback, ref string? problem)
    {
        if (!TryGet(obj, name, out var value))
        {
            return fallback;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            problem ??= $"{name} must be true or false";
            return fallback;
        }

        return value.GetBoolean();
    }

    private static string[]? Strings(JsonElement obj, string name, string[]? fallback, ref string? problem)
    {
        if (!TryGet(obj, name, out var value))
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            problem ??= $"{name} must be a list of strings";
            return fallback;
        }

        return [.. value.EnumerateArray().Select(e => e.GetString()!)];
    }

    private static PluginLimits Limits(JsonElement root, ref string? problem)
    {
        var defaults = PluginLimits.Default;
        if (!TryGet(root, "limits", out var limits))
        {
            return defaults;
        }

        if (limits.ValueKind != JsonValueKind.Object)
        {
            problem ??= "limits must be an object with fuel, timeout_ms and memory_mb";
            return defaults;
        }

        if (CheckFields(limits, LimitFields, "limits.") is { } fieldProblem)
        {
            problem ??= fieldProblem;
            return defaults;
        }

        var fuel = defaults.Fuel;
        if (TryGet(limits, "fuel", out var f) && !(f.ValueKind == JsonValueKind.Number && f.TryGetInt64(out fuel)))
        {
            problem ??= "limits.fuel must be a whole number";
        }

        var timeout = defaults.TimeoutMs;
        if (TryGet(limits, "timeout_ms", out var t) && !(t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out timeout)))
        {
            problem ??= "limits.timeout_ms must be a whole number of milliseconds";
        }

        var memory = defaults.MemoryMb;
        if (TryGet(limits, "memory_mb", out var m) && !(m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out memory)))
        {
            problem ??= "limits.memory_mb must be a whole number of MiB";
        }

        return new PluginLimits(fuel, timeout, memory);
    }

    /// <summary>The config object as written (its text is what plugins get), or "{}" when absent.</summary>
    private static string Config(JsonElement root, ref string? problem)
    {
        if (!TryGet(root, "config", out var config))
        {
            return "{}";
        }

        if (config.ValueKind != JsonValueKind.Object)
        {
            problem ??= "config must be a JSON object";
            return "{}";
        }

        return config.GetRawText();
    }
}
