namespace Kefu.Plugins;

/// <summary>The names ABI v1 fixes (docs/plugins.md "ABI v1").</summary>
internal static class PluginAbi
{
    public const string Memory = "memory";
    public const string Alloc = "alloc";
    public const string Process = "process";
    public const string Marker = "kefu_abi_v1";

    public const string HostModule = "kefu";
    public const string Emit = "emit";
    public const string Log = "log";
    public const string ConfigGet = "config_get";
    public const string Http = "http";
    public const string AbortModule = "env";
    public const string Abort = "abort";
    public const string WasiModule = "wasi_snapshot_preview1";

    /// <summary>Every import a module may have (without WASI).</summary>
    public static readonly (string Module, string Name)[] AllowedImports =
    [
        (HostModule, Emit), (HostModule, Log), (HostModule, ConfigGet), (HostModule, Http), (AbortModule, Abort),
    ];

    public const int PageBytes = 64 * 1024;

    /// <summary>kefu.http and kefu.config_get return codes.</summary>
    public const int Absent = -1;
    public const int NoTimeLeft = -2;
    public const int NetworkError = -3;
    public const int ResponseTooLarge = -4;
    public const int MaxHttpResponseBytes = 128 * 1024;
}
