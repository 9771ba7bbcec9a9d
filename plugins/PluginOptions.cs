namespace Kefu.Plugins;

/// <summary>
/// The server's plugin settings (<c>Kefu:Plugins</c>, docs/plugins.md "Limits"): the most any manifest may ask for, and
/// how many guest calls run at once on this process. A manifest above a maximum is refused at upload.
/// </summary>
public sealed class PluginOptions
{
    public const string Section = "Kefu:Plugins";

    public long MaxFuel { get; set; } = 1_000_000_000;

    public int MaxTimeoutMs { get; set; } = 2_000;

    public int MaxMemoryMb { get; set; } = 128;

    /// <summary>The largest module accepted at upload.</summary>
    public int MaxModuleBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Guest calls running at once on this process (0 = one per core); the thread pool's minimum is raised by as many,
    /// so guests blocking threads never starve the silo.
    /// </summary>
    public int MaxConcurrentCalls { get; set; }

    /// <summary>How often the engine's epoch advances: the granularity of wall-clock deadlines and cancellation.</summary>
    public int EpochTickMs { get; set; } = 2;

    /// <summary>Where compiled modules are kept (serialized, by SHA-256) so a restart does not compile again; empty = memory only.</summary>
    public string? CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "kefu-plugin-cache");

    /// <summary>Compiled modules kept in memory (least recently used go first).</summary>
    public int MaxCachedModules { get; set; } = 256;

    /// <summary>Sandboxes one plugin keeps per silo: calls beyond this many at once wait (within their deadline).</summary>
    public int SandboxesPerPlugin { get; set; } = 4;

    /// <summary>This many failed calls in a row suspend a plugin for <see cref="SuspendFor"/> (calls fail fast meanwhile).</summary>
    public int SuspendAfterFailures { get; set; } = 20;

    public TimeSpan SuspendFor { get; set; } = TimeSpan.FromSeconds(30);

    internal int ConcurrentCalls => MaxConcurrentCalls > 0 ? MaxConcurrentCalls : Environment.ProcessorCount;
}
