using System.Text.Json;
using Kefu.Contracts.Plugins;

namespace Kefu.Plugins;

/// <summary>
/// Reads one emitted action (docs/plugins.md "Output"): a JSON object whose <c>action</c> is known, has its fields, and
/// is allowed at the hook. Anything else fails the call: a plugin that says something Kefu cannot act on is a broken
/// plugin, not a silent no-op.
/// </summary>
public static class PluginOutputReader
{
    public static PluginAction Read(ReadOnlySpan<byte> utf8, string hook)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray());
        }
        catch (JsonException e)
        {
            throw new PluginOutputException($"an emitted action is not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new PluginOutputException("an emitted action must be a JSON object");
            if (!root.TryGetProperty("action", out var kindElement) || kindElement.ValueKind != JsonValueKind.String)
                throw new PluginOutputException("an emitted action needs \"action\"");
            var kind = kindElement.GetString()!;
            if (!PluginActionKinds.All.Contains(kind))
                throw new PluginOutputException($"unknown action '{kind}' (known: {string.Join(", ", PluginActionKinds.All)})");
            if (!AllowedAt(kind, hook))
                throw new PluginOutputException($"action '{kind}' is not allowed at {hook}");
            foreach (var field in RequiredStrings(kind))
                if (!root.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
                    throw new PluginOutputException($"action '{kind}' needs a non-empty string \"{field}\"");
            if (kind == PluginActionKinds.Emit && root.TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Object)
                throw new PluginOutputException("action 'emit': \"data\" must be an object");
            if (kind == PluginActionKinds.Redact && root.TryGetProperty("with", out var with) && with.ValueKind != JsonValueKind.String)
                throw new PluginOutputException("action 'redact': \"with\" must be a string");
            return new PluginAction(kind, root.GetRawText());
        }
    }

    public static bool AllowedAt(string kind, string hook) => kind switch
    {
        PluginActionKinds.ReplaceText or PluginActionKinds.Redact => hook == PluginHooks.BeforeMessage,
        PluginActionKinds.Drop => hook is PluginHooks.BeforeMessage or PluginHooks.Route,
        PluginActionKinds.Set => hook == PluginHooks.Route,
        _ => hook is PluginHooks.AfterMessage or PluginHooks.Route,
    };

    private static string[] RequiredStrings(string kind) => kind switch
    {
        PluginActionKinds.ReplaceText => ["text"],
        PluginActionKinds.Redact => ["find"],
        PluginActionKinds.Tag => ["tag"],
        PluginActionKinds.SetAttribute => ["key", "value"],
        PluginActionKinds.Reply => ["text"],
        PluginActionKinds.Emit => ["name"],
        PluginActionKinds.Set => ["name", "value"],
        _ => [],
    };

    /// <summary>Applies the before_message text actions in order (replace_text, then each redact).</summary>
    public static string ApplyText(string text, IEnumerable<PluginAction> actions)
    {
        foreach (var action in actions)
        {
            using var json = JsonDocument.Parse(action.Json);
            var root = json.RootElement;
            if (action.Kind == PluginActionKinds.ReplaceText)
                text = root.GetProperty("text").GetString()!;
            else if (action.Kind == PluginActionKinds.Redact)
                text = text.Replace(root.GetProperty("find").GetString()!,
                    root.TryGetProperty("with", out var with) ? with.GetString() : "****", StringComparison.Ordinal);
        }
        return text;
    }
}

public sealed class PluginOutputException(string message) : Exception(message);
