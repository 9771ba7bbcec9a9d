using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Plugins;
using Kefu.Gateway.Auth;
using Kefu.Grains.Plugins;
using Kefu.Plugins;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Api;

/// <summary>
/// A tenant's WebAssembly plugins (issue #19, docs/plugins.md "Upload and manage"), admins only: upload a module with
/// its manifest (multipart; checked, trial-instantiated and hashed by <see cref="IPluginRegistryGrain"/> before anything
/// is stored), list, read one with its call statistics, enable, disable, delete, and try one call. What is shown never
/// includes the module's bytes or the config's values: config may hold the plugin's credentials, so it is write-only.
/// </summary>
public static class PluginsApi
{
    /// <summary>The most a manifest may be; also the room left for the multipart framing around the module.</summary>
    public const int MaxManifestBytes = 64 * 1024;

    public const string ModulePart = "module";
    public const string ManifestPart = "manifest";

    public static IEndpointRouteBuilder MapPluginsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/plugins").WithTags("plugins").RequireAuthorization(KefuPolicies.Admin);
        group.MapPut("/{name}", (string name, HttpContext context, ClaimsPrincipal user, IGrainFactory grains, IOptions<PluginOptions> options) =>
                PutAsync(name, context, user, grains, options.Value))
            .Accepts<PluginUploadForm>("multipart/form-data")
            .Produces<PluginDto>(StatusCodes.Status201Created)
            .Produces<PluginDto>()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithDescription("Uploads a plugin: multipart/form-data with the part `module` (the .wasm file) and the part `manifest` " +
                "(its JSON, docs/plugins.md \"Manifest\"). The module is checked (ABI v1, import allow-list, memory cap, one trial " +
                "instantiation) before anything is stored; 201 for a new plugin, 200 for a new revision of an existing one (enabled). " +
                $"Refusals: 422 `{PluginErrorCodes.InvalidManifest}`, `{PluginErrorCodes.InvalidModule}`, `{PluginErrorCodes.AbiMismatch}`, " +
                $"`{PluginErrorCodes.ImportNotAllowed}`, `{PluginErrorCodes.MemoryTooLarge}` (or the code of a trial call that failed); " +
                $"413 `{PluginErrorCodes.ModuleTooLarge}`; 409 `{ErrorCodes.AtCapacity}` (too many plugins).");
        group.MapGet("/", ListAsync)
            .WithDescription("The tenant's plugins in name order: hash, size, revision, status and manifest; `configKeys` names the config's keys, never its values.");
        group.MapGet("/{name}", GetAsync)
            .WithDescription("One plugin as listed, with `stats`: calls, failures, failures in a row, suspended until, the last error and p99 time.");
        group.MapPost("/{name}/enable", (string name, ClaimsPrincipal user, IGrainFactory grains) => SetEnabledAsync(name, true, user, grains))
            .WithDescription("Enables the plugin: its hooks run again.");
        group.MapPost("/{name}/disable", (string name, ClaimsPrincipal user, IGrainFactory grains) => SetEnabledAsync(name, false, user, grains))
            .WithDescription("Disables the plugin: its hooks and routing actions stop calling it until it is enabled (calls fail with plugin_disabled).");
        group.MapDelete("/{name}", DeleteAsync)
            .WithDescription("Deletes the plugin and its module.");
        group.MapPost("/{name}/test", TestAsync)
            .WithDescription("Calls the plugin once with `input` at `hook` and answers the call's result: `ok`, the `actions` it emitted, " +
                "or `errorCode` and `reason`; its `log`, `fuelUsed` and `elapsedMs`. Nothing is applied to any conversation, but the call " +
                "really runs: kefu.http requests are made, and the call counts in the plugin's stats.");
        return app;
    }

    private static async Task<IResult> PutAsync(string name, HttpContext context, ClaimsPrincipal user, IGrainFactory grains, PluginOptions options)
    {
        var request = context.Request;
        if (!request.HasFormContentType || !request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, Problems.DefaultCode(StatusCodes.Status415UnsupportedMediaType),
                $"Send multipart/form-data with the parts '{ModulePart}' (the .wasm file) and '{ManifestPart}' (its JSON).");
        }

        // The whole body is bounded before it is read: a module at the limit plus a manifest at its limit.
        long maxBody = (long)options.MaxModuleBytes + MaxManifestBytes;
        if (request.ContentLength > maxBody)
        {
            return ModuleTooLarge(options);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = maxBody;
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = maxBody, ValueLengthLimit = MaxManifestBytes + 1 }, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ModuleTooLarge(options);
        }
        catch (InvalidDataException e) when (e.Message.Contains("Multipart body length limit", StringComparison.OrdinalIgnoreCase))
        {
            return ModuleTooLarge(options);
        }
        catch (InvalidDataException e) when (e.Message.Contains("value length limit", StringComparison.OrdinalIgnoreCase))
        {
            return ManifestTooLarge();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.BadRequest, "The multipart body could not be read.");
        }

        if (form.Files.GetFile(ModulePart) is not { Length: > 0 } module)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, $"Send the .wasm module as a non-empty file part named '{ModulePart}'.");
        }

        if (module.Length > options.MaxModuleBytes)
        {
            return ModuleTooLarge(options);
        }

        // curl -F manifest=@manifest.json sends a file part, -F manifest='{…}' or <manifest.json a field: both are fine.
        string? manifestText;
        if (form.Files.GetFile(ManifestPart) is { } manifestFile)
        {
            if (manifestFile.Length > MaxManifestBytes)
            {
                return ManifestTooLarge();
            }

            using var reader = new StreamReader(manifestFile.OpenReadStream(), Encoding.UTF8);
            manifestText = await reader.ReadToEndAsync(context.RequestAborted);
        }
        else
        {
            manifestText = form[ManifestPart] is [{ } value] ? value : null;
        }

        if (string.IsNullOrWhiteSpace(manifestText))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, $"Send the manifest (JSON) as a part named '{ManifestPart}'.");
        }

        if (Encoding.UTF8.GetByteCount(manifestText) > MaxManifestBytes)
        {
            return ManifestTooLarge();
        }

        var manifest = PluginManifestReader.Read(manifestText, name);
        if (manifest.Error is { } invalid)
        {
            return Refused(invalid);
        }

        var wasm = new byte[module.Length];
        await using (var stream = module.OpenReadStream())
        {
            await stream.ReadExactlyAsync(wasm, context.RequestAborted);
        }

        var caller = user.ToCaller();
        var outcome = await Registry(grains, caller.Tenant).Put(new PluginUpload(name, wasm, manifest.Value!, caller.Id));
        if (outcome.Value is not { } info)
        {
            return Refused(outcome.Error!);
        }

        // Revision 1 is a plugin that did not exist (a deleted one starts again at 1).
        return info.Revision == 1
            ? TypedResults.Created($"/api/v1/plugins/{info.Name}", PluginDto.From(info, null))
            : TypedResults.Ok(PluginDto.From(info, null));
    }

    private static async Task<Ok<PluginListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var plugins = await Registry(grains, user.ToCaller().Tenant).List();
        return TypedResults.Ok(new PluginListResponse([.. plugins.Select(p => PluginDto.From(p, null))]));
    }

    private static async Task<Results<Ok<PluginDto>, ProblemHttpResult>> GetAsync(string name, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        if (await Registry(grains, tenant).Get(name) is not { } info)
        {
            return NotFound(name);
        }

        var stats = await grains.GetGrain<IPluginGrain>(Key(tenant, name)).GetStats();
        return TypedResults.Ok(PluginDto.From(info, stats));
    }

    private static async Task<Results<Ok<PluginDto>, ProblemHttpResult>> SetEnabledAsync(string name, bool enabled, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        var outcome = await Registry(grains, caller.Tenant).SetEnabled(name, enabled, caller.Id);
        return outcome.Value is { } info ? TypedResults.Ok(PluginDto.From(info, null)) : Refused(outcome.Error!);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, ClaimsPrincipal user, IGrainFactory grains)
    {
        var caller = user.ToCaller();
        var outcome = await Registry(grains, caller.Tenant).Delete(name, caller.Id);
        return outcome.IsOk ? TypedResults.NoContent() : Refused(outcome.Error!);
    }

    private static async Task<Results<Ok<PluginTestResultDto>, ProblemHttpResult>> TestAsync(
        string name, PluginTestRequest? request, ClaimsPrincipal user, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (request?.Hook is not { } hook)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, ErrorCodes.MissingField, $"hook is required: one of {string.Join(", ", PluginHooks.All)}.");
        }

        if (!PluginHooks.All.Contains(hook, StringComparer.Ordinal))
        {
            return Problems.Invalid($"hook must be one of {string.Join(", ", PluginHooks.All)}.");
        }

        if (request.Input is { } input && input.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            return Problems.Invalid("input must be a JSON object: the hook's fields, e.g. {\"message\": {\"text\": \"…\"}}.");
        }

        var tenant = user.ToCaller().Tenant;
        if (await Registry(grains, tenant).Get(name) is null)
        {
            return NotFound(name);
        }

        var inputJson = request.Input is { ValueKind: JsonValueKind.Object } given ? given.GetRawText() : "{}";
        var result = await grains.GetGrain<IPluginGrain>(Key(tenant, name)).Call(new PluginCall(hook, inputJson, Deadline: null), cancellationToken);
        return TypedResults.Ok(PluginTestResultDto.From(result));
    }

    private static IPluginRegistryGrain Registry(IGrainFactory grains, string tenant) => grains.GetGrain<IPluginRegistryGrain>(tenant);

    private static string Key(string tenant, string name) => $"{tenant}/{name}";

    /// <summary>The registry's refusal with its own code: a module or manifest the sandbox will not take is 422, not 400.</summary>
    private static ProblemHttpResult Refused(KefuError error) => Problems.Create(StatusOf(error.Code), error.Code, error.Message);

    public static int StatusOf(string code) => code switch
    {
        PluginErrorCodes.NotFound => StatusCodes.Status404NotFound,
        PluginErrorCodes.ModuleTooLarge => StatusCodes.Status413PayloadTooLarge,
        // Whatever the checks refuse (ABI, imports, memory, manifest, or a trial instantiation that trapped or ran out):
        // the request was well-formed, its content is what cannot be run.
        _ when code.StartsWith("plugin_", StringComparison.Ordinal) => StatusCodes.Status422UnprocessableEntity,
        _ => Problems.StatusOf(code),
    };

    private static ProblemHttpResult NotFound(string name) => Problems.Create(StatusCodes.Status404NotFound, PluginErrorCodes.NotFound, $"No plugin '{name}'.");

    private static ProblemHttpResult ModuleTooLarge(PluginOptions options) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, PluginErrorCodes.ModuleTooLarge, $"A module may be at most {options.MaxModuleBytes} bytes.");

    private static ProblemHttpResult ManifestTooLarge() =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, JsonBody.PayloadTooLarge, $"The manifest may be at most {MaxManifestBytes} bytes.");
}

/// <summary>The upload's multipart parts (described for OpenAPI; the endpoint reads the form itself).</summary>
public sealed class PluginUploadForm
{
    /// <summary>The WebAssembly module (.wasm).</summary>
    public required IFormFile Module { get; init; }

    /// <summary>The manifest, JSON (docs/plugins.md "Manifest"): a file part or a plain field.</summary>
    public required string Manifest { get; init; }
}

/// <summary>
/// A plugin as the API shows it: never the module's bytes, and of the config only its keys (values may be secrets).
/// <see cref="Stats"/> only from <c>GET /api/v1/plugins/{name}</c>.
/// </summary>
public sealed record PluginDto(
    string Name,
    string Sha256,
    long SizeBytes,
    int Revision,
    bool Enabled,
    DateTimeOffset UploadedAt,
    string? UploadedBy,
    PluginManifestDto Manifest,
    string[] ConfigKeys,
    PluginStatsDto? Stats)
{
    public static PluginDto From(PluginInfo info, PluginStats? stats) =>
        new(info.Name, info.Sha256, info.SizeBytes, info.Revision, info.Enabled, info.UploadedAt, info.UploadedBy,
            PluginManifestDto.From(info.Manifest), KeysOf(info.Manifest.ConfigJson), stats is null ? null : PluginStatsDto.From(stats));

    private static string[] KeysOf(string configJson)
    {
        try
        {
            using var config = JsonDocument.Parse(configJson);
            return config.RootElement.ValueKind == JsonValueKind.Object ? [.. config.RootElement.EnumerateObject().Select(p => p.Name)] : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

/// <summary>The manifest as uploaded (snake_case like the manifest itself), without <c>config</c>.</summary>
public sealed record PluginManifestDto(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("description")] string? Description,
    [property: JsonPropertyName("hooks")] string[] Hooks,
    [property: JsonPropertyName("limits")] PluginLimitsDto Limits,
    [property: JsonPropertyName("wasi")] bool Wasi,
    [property: JsonPropertyName("allowed_hosts")] string[] AllowedHosts,
    [property: JsonPropertyName("on_error")] string OnError)
{
    public static PluginManifestDto From(PluginManifest m) =>
        new(m.Version, m.Description, m.Hooks, new PluginLimitsDto(m.Limits.Fuel, m.Limits.TimeoutMs, m.Limits.MemoryMb), m.Wasi, m.AllowedHosts, m.OnError);
}

public sealed record PluginLimitsDto(
    [property: JsonPropertyName("fuel")] long Fuel,
    [property: JsonPropertyName("timeout_ms")] int TimeoutMs,
    [property: JsonPropertyName("memory_mb")] int MemoryMb);

/// <summary>The plugin grain's counters (since it was last activated or changed).</summary>
public sealed record PluginStatsDto(
    long Calls,
    long Failures,
    int ConsecutiveFailures,
    DateTimeOffset? SuspendedUntil,
    string? LastErrorCode,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    double P99Ms)
{
    public static PluginStatsDto From(PluginStats s) =>
        new(s.Calls, s.Failures, s.ConsecutiveFailures, s.SuspendedUntil, s.LastErrorCode, s.LastError, s.LastErrorAt, s.P99Ms);
}

public sealed record PluginListResponse(PluginDto[] Plugins);

/// <summary><see cref="Input"/>: the hook's own fields (<c>{"message": …}</c>, or <c>{"event": …, "vars": …}</c>); Kefu adds the rest.</summary>
public sealed record PluginTestRequest(string? Hook, JsonElement? Input);

/// <summary>One call's result; <see cref="Actions"/> are the emitted JSON objects as the plugin wrote them.</summary>
public sealed record PluginTestResultDto(bool Ok, JsonElement[] Actions, string? ErrorCode, string? Reason, string Log, long FuelUsed, double ElapsedMs)
{
    public static PluginTestResultDto From(PluginCallResult r) =>
        new(r.Ok, [.. r.Actions.Select(a => Json(a.Json))], r.ErrorCode, r.Reason, r.Log, r.FuelUsed, r.ElapsedMs);

    private static JsonElement Json(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            // The output reader accepted it, so this does not happen; shown as text rather than lost if it ever does.
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
