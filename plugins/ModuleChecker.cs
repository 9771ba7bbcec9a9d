using Kefu.Contracts.Plugins;
using Wasmtime;

namespace Kefu.Plugins;

/// <summary>
/// Decides whether a compiled module may run as a plugin: ABI v1 exports with the right types, only allow-listed
/// imports (WASI only when the manifest asks), and a declared memory within the manifest's cap. Load-time refusals
/// keep a bad module out of the registry instead of failing on every call.
/// </summary>
internal static class ModuleChecker
{
    public static PluginProblem? Check(Module module, PluginManifest manifest)
    {
        foreach (var import in module.Imports)
        {
            if (import is MemoryImport or TableImport or GlobalImport)
                return new(PluginErrorCodes.ImportNotAllowed, $"import {import.ModuleName}.{import.Name}: a plugin defines its own memory, tables and globals");
            if (import.ModuleName == PluginAbi.WasiModule)
            {
                if (!manifest.Wasi)
                    return new(PluginErrorCodes.ImportNotAllowed, $"import {import.ModuleName}.{import.Name} needs \"wasi\": true in the manifest");
                continue;
            }
            if (!PluginAbi.AllowedImports.Contains((import.ModuleName, import.Name)))
                return new(PluginErrorCodes.ImportNotAllowed,
                    $"import {import.ModuleName}.{import.Name} is not allowed (allowed: kefu.emit, kefu.log, kefu.config_get, kefu.http, env.abort)");
            if (import is FunctionImport function && ExpectedImport(import.Name) is { } expected &&
                !(function.Parameters.SequenceEqual(expected.Parameters) && function.Results.SequenceEqual(expected.Results)))
                return new(PluginErrorCodes.ImportNotAllowed, $"import {import.ModuleName}.{import.Name} has the wrong type (expected {expected.Signature})");
        }

        var exports = module.Exports.ToDictionary(e => e.Name, StringComparer.Ordinal);
        if (!exports.ContainsKey(PluginAbi.Marker))
            return new(PluginErrorCodes.AbiMismatch, "the module does not export kefu_abi_v1 (see docs/plugins.md, ABI v1)");
        if (!exports.TryGetValue(PluginAbi.Memory, out var memory) || memory is not MemoryExport memoryExport || memoryExport.Is64Bit)
            return new(PluginErrorCodes.AbiMismatch, "the module must export a 32-bit memory named \"memory\"");
        if (!IsFunction(exports, PluginAbi.Alloc, [ValueKind.Int32], [ValueKind.Int32]))
            return new(PluginErrorCodes.AbiMismatch, "the module must export alloc(len: i32) -> i32");
        if (!IsFunction(exports, PluginAbi.Process, [ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32]))
            return new(PluginErrorCodes.AbiMismatch, "the module must export process(ptr: i32, len: i32) -> i32");

        var declaredBytes = memoryExport.Minimum * PluginAbi.PageBytes;
        var capBytes = (long)manifest.Limits.MemoryMb * 1024 * 1024;
        if (declaredBytes > capBytes)
            return new(PluginErrorCodes.MemoryTooLarge,
                $"the module's memory starts at {declaredBytes / (1024 * 1024.0):0.#} MiB, above the manifest's memory_mb {manifest.Limits.MemoryMb}");
        return null;
    }

    private static bool IsFunction(Dictionary<string, Export> exports, string name, ValueKind[] parameters, ValueKind[] results) =>
        exports.TryGetValue(name, out var export) && export is FunctionExport function &&
        function.Parameters.SequenceEqual(parameters) && function.Results.SequenceEqual(results);

    private static (ValueKind[] Parameters, ValueKind[] Results, string Signature)? ExpectedImport(string name) => name switch
    {
        PluginAbi.Emit => ([ValueKind.Int32, ValueKind.Int32], [], "(i32, i32) -> ()"),
        PluginAbi.Log => ([ValueKind.Int32, ValueKind.Int32, ValueKind.Int32], [], "(i32, i32, i32) -> ()"),
        PluginAbi.ConfigGet => ([ValueKind.Int32, ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32], "(i32, i32, i32) -> i32"),
        PluginAbi.Http => ([ValueKind.Int32, ValueKind.Int32, ValueKind.Int32], [ValueKind.Int32], "(i32, i32, i32) -> i32"),
        PluginAbi.Abort => ([ValueKind.Int32, ValueKind.Int32, ValueKind.Int32, ValueKind.Int32], [], "(i32, i32, i32, i32) -> ()"),
        _ => null,
    };
}

/// <summary>Why a module or a call was refused: a stable code (<see cref="PluginErrorCodes"/>) and a readable reason.</summary>
public sealed record PluginProblem(string Code, string Reason);
