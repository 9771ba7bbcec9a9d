using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kefu.Gateway.Auth;
using Kefu.Grains.Hosting;
using Kefu.Grains.Tenants;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// The embedded default keeps everything in memory, so every start used to be a brand-new installation: a new admin
/// password, a new public key for the <c>default</c> inbox (a widget snippet already pasted on a site stopped
/// working) and a new signing key (every token died). This small file, next to the app unless
/// <c>Kefu:Embedded:StatePath</c> says otherwise, keeps those three across restarts. It is created at the first start
/// with mode 0600 and only supplies what configuration does not set; nothing else of the installation is in it.
/// </summary>
public sealed class EmbeddedState
{
    public const string PathKey = "Kefu:Embedded:StatePath";
    public const string DefaultFileName = "kefu-embedded-state.json";
    public const string InboxKeyKey = BootstrapOptions.Section + ":DefaultInboxKey";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private EmbeddedState(string path) => Path = path;

    public string Path { get; }

    /// <summary>The admin password when this start generated it (the first start): printed once, then only in the file.</summary>
    public string? NewAdminPassword { get; private set; }

    /// <summary>Whether the admin password comes from this file (configuration does not set it).</summary>
    public bool KeepsAdminPassword { get; private set; }

    /// <summary>Why the file could not be read or written, if so (this start then behaves as before: values for this run only).</summary>
    public string? Problem { get; private set; }

    /// <summary>
    /// Reads (or creates) the state file and adds what it holds to <paramref name="configuration"/> for the keys that
    /// configuration leaves unset. Null when configuration sets all three (then no file is touched).
    /// </summary>
    public static EmbeddedState? Apply(IConfigurationManager configuration)
    {
        var missing = new Dictionary<string, string?>(StringComparer.Ordinal);
        var needPassword = string.IsNullOrEmpty(configuration[AdminBootstrapService.PasswordKey]);
        var needSigningKey = string.IsNullOrEmpty(configuration[KefuAuthOptions.Section + ":SigningKey"]);
        var needInboxKey = string.IsNullOrEmpty(configuration[InboxKeyKey]);
        if (!needPassword && !needSigningKey && !needInboxKey)
        {
            return null;
        }

        var configured = configuration[PathKey];
        var state = new EmbeddedState(string.IsNullOrWhiteSpace(configured)
            ? System.IO.Path.Combine(AppContext.BaseDirectory, DefaultFileName)
            : System.IO.Path.GetFullPath(configured));
        var stored = state.Read() ?? new StoredState();
        var changed = false;
        if (needPassword && string.IsNullOrEmpty(stored.AdminPassword))
        {
            stored.AdminPassword = Convert.ToBase64String(RandomNumberGenerator.GetBytes(15));
            state.NewAdminPassword = stored.AdminPassword;
            changed = true;
        }

        if (needSigningKey && stored.SigningKey is not { Length: >= 32 })
        {
            stored.SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            changed = true;
        }

        if (needInboxKey && !InboxKeys.IsWellFormed(stored.DefaultInboxKey))
        {
            stored.DefaultInboxKey = InboxKeys.New();
            changed = true;
        }

        if (changed)
        {
            state.Write(stored);
        }

        if (needPassword)
        {
            state.KeepsAdminPassword = true;
            missing[AdminBootstrapService.PasswordKey] = stored.AdminPassword;
        }

        if (needSigningKey)
        {
            missing[KefuAuthOptions.Section + ":SigningKey"] = stored.SigningKey;
        }

        if (needInboxKey)
        {
            missing[InboxKeyKey] = stored.DefaultInboxKey;
        }

        configuration.AddInMemoryCollection(missing);
        return state;
    }

    private StoredState? Read()
    {
        try
        {
            return File.Exists(Path) ? JsonSerializer.Deserialize<StoredState>(File.ReadAllText(Path), Json) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            Problem = $"could not read {Path}: {ex.Message}";
            return null;
        }
    }

    /// <summary>Written to a temporary file (mode 0600 from its creation) and moved into place, so no reader sees half a file.</summary>
    private void Write(StoredState stored)
    {
        var temporary = $"{Path}.{Guid.NewGuid():N}.tmp";
        try
        {
            System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, stored, Json);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Problem = $"could not write {Path}: {ex.Message}";
            try
            {
                File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the start goes on with this run's values.
            }
        }
    }

    private sealed class StoredState
    {
        [JsonPropertyName("adminPassword")]
        public string? AdminPassword { get; set; }

        [JsonPropertyName("signingKey")]
        public string? SigningKey { get; set; }

        [JsonPropertyName("defaultInboxKey")]
        public string? DefaultInboxKey { get; set; }
    }
}
