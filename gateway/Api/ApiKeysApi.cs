using System.Security.Claims;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kefu.Gateway.Api;

/// <summary>
/// Service API keys (INTEGRATION.md §1, docs/integration.md §7): admins create them (the key text is answered once and
/// only its hash is kept), list them without secrets, and revoke them (the next request with the key is refused).
/// </summary>
public static class ApiKeysApi
{
    /// <summary>The tenant already has the most keys it may have: revoke unused ones first.</summary>
    public const string TooManyKeys = "too_many_keys";

    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        // Admin JWTs only: a key never makes or sees keys (Admin is a role of people, not of service keys).
        var group = app.MapGroup("/api/v1/api-keys").WithTags("api-keys").RequireAuthorization(KefuPolicies.Admin);
        group.MapPost("/", CreateAsync);
        group.MapGet("/", ListAsync);
        group.MapGet("/{keyId}", GetAsync);
        group.MapDelete("/{keyId}", RevokeAsync);
        return app;
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ProblemHttpResult>> CreateAsync(
        CreateApiKeyRequest? request, ClaimsPrincipal user, IGrainFactory grains, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var (spec, error) = ApiKeyRules.Validate(request?.Name, request?.Scopes, request?.Inboxes, request?.ExpiresAt, now);
        if (spec is null)
        {
            return Problems.Invalid(error!);
        }

        var caller = user.ToCaller();
        var (keyId, key, secretHash) = ApiKeyFormat.New(now);

        // Listed first: a crash before the key exists leaves an id the list skips, never a key nobody can see or revoke.
        if (!await grains.GetGrain<IApiKeyDirectoryGrain>(caller.Tenant).Add(keyId))
        {
            return Problems.Create(StatusCodes.Status409Conflict, TooManyKeys, "This tenant has the most keys it may have; revoke unused ones first.");
        }

        var created = await grains.GetGrain<IApiKeyGrain>(keyId).Create(caller.Tenant, spec, secretHash, caller.Id);
        if (created.Error is { } refused)
        {
            return Problems.From(refused);
        }

        var info = created.Value!;
        return TypedResults.Created($"/api/v1/api-keys/{keyId}", new CreatedApiKeyResponse(
            info.KeyId, key, info.Name, info.Scopes, info.Inboxes, info.CreatedAt, info.ExpiresAt));
    }

    private static async Task<Ok<ApiKeyListResponse>> ListAsync(ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        var ids = await grains.GetGrain<IApiKeyDirectoryGrain>(tenant).List();
        var keys = await Task.WhenAll(ids.Select(id => grains.GetGrain<IApiKeyGrain>(id).Get(tenant)));
        return TypedResults.Ok(new ApiKeyListResponse([.. keys
            .OfType<ApiKeyInfo>()
            .Where(k => k.RevokedAt is null)
            .OrderByDescending(k => k.CreatedAt)
            .Select(ApiKeyResponse.From)]));
    }

    private static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> GetAsync(string keyId, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (!ApiKeyFormat.IsKeyId(keyId)
            || await grains.GetGrain<IApiKeyGrain>(keyId).Get(user.ToCaller().Tenant) is not { } key)
        {
            return NotFound();
        }

        return TypedResults.Ok(ApiKeyResponse.From(key));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string keyId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var tenant = user.ToCaller().Tenant;
        if (!ApiKeyFormat.IsKeyId(keyId) || !await grains.GetGrain<IApiKeyGrain>(keyId).Revoke(tenant))
        {
            return NotFound();
        }

        await grains.GetGrain<IApiKeyDirectoryGrain>(tenant).Remove(keyId);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound() =>
        Problems.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "API key was not found.");
}

public sealed record CreateApiKeyRequest(string? Name, string[]? Scopes, string[]? Inboxes, DateTimeOffset? ExpiresAt);

/// <summary>The only answer that carries <see cref="Key"/>: it is not stored and cannot be shown again.</summary>
public sealed record CreatedApiKeyResponse(
    string Id, string Key, string Name, string[] Scopes, string[] Inboxes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>A key as listed: never its secret.</summary>
public sealed record ApiKeyResponse(
    string Id, string Name, string[] Scopes, string[] Inboxes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, string? CreatedBy)
{
    public static ApiKeyResponse From(ApiKeyInfo key) =>
        new(key.KeyId, key.Name, key.Scopes, key.Inboxes, key.CreatedAt, key.ExpiresAt, key.LastUsedAt, key.RevokedAt, key.CreatedBy);
}

public sealed record ApiKeyListResponse(ApiKeyResponse[] Keys);
