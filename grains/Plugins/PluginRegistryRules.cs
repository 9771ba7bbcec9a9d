using System.Text.Json;
using System.Text.RegularExpressions;
using Kefu.Contracts.Plugins;

namespace Kefu.Grains.Plugins;

/// <summary>What a manifest must say before its module is even compiled (docs/plugins.md "Manifest").</summary>
public static partial class PluginRegistryRules
{
    public const int MaxPluginsPerTenant = 50;
    public const int MaxConfigBytes = 16 * 1024;
    public const int MaxAllowedHosts = 20;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    public static partial Regex NamePattern();

    public static string? CheckManifest(string name, PluginManifest manifest)
    {
        if (!NamePattern().IsMatch(name))
            return "a plugin name is 1-63 lowercase letters, digits and '-', starting with a letter or digit";
        if (!string.Equals(manifest.Name, name, StringComparison.Ordinal))
            return $"the manifest's name '{manifest.Name}' differs from the name in the URL '{name}'";
        if (manifest.Hooks.Length == 0)
            return "hooks: list at least one of " + string.Join(", ", PluginHooks.All);
        if (manifest.Hooks.FirstOrDefault(h => !PluginHooks.All.Contains(h)) is { } unknown)
            return $"hooks: unknown hook '{unknown}' (known: {string.Join(", ", PluginHooks.All)})";
        if (manifest.OnError is not (PluginManifest.OnErrorAllow or PluginManifest.OnErrorRefuse))
            return "on_error must be \"allow\" or \"refuse\"";
        if (manifest.AllowedHosts.Length > MaxAllowedHosts)
            return $"allowed_hosts: at most {MaxAllowedHosts}";
        if (manifest.AllowedHosts.FirstOrDefault(h => Uri.CheckHostName(h.Split(':')[0]) == UriHostNameType.Unknown) is { } host)
            return $"allowed_hosts: '{host}' is not a host name";
        if (System.Text.Encoding.UTF8.GetByteCount(manifest.ConfigJson) > MaxConfigBytes)
            return $"config: at most {MaxConfigBytes} bytes";
        try
        {
            using var config = JsonDocument.Parse(manifest.ConfigJson);
            if (config.RootElement.ValueKind != JsonValueKind.Object)
                return "config must be a JSON object";
        }
        catch (JsonException)
        {
            return "config must be a JSON object";
        }
        return null;
    }
}
