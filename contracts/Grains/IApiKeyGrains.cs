using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// A service API key without its secret (INTEGRATION.md §1): what the list shows and what an accepted key authenticates
/// as. <see cref="Inboxes"/> empty = every inbox of the tenant.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ApiKeyInfo(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Tenant,
    [property: Id(2)] string Name,
    [property: Id(3)] string[] Scopes,
    [property: Id(4)] string[] Inboxes,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? ExpiresAt,
    [property: Id(7)] DateTimeOffset? LastUsedAt,
    [property: Id(8)] DateTimeOffset? RevokedAt,
    [property: Id(9)] string? CreatedBy);

/// <summary>What an admin asks for when creating a key (validated by the gateway; the grain stores it as given).</summary>
[GenerateSerializer, Immutable]
public sealed record ApiKeySpec(
    [property: Id(0)] string Name,
    [property: Id(1)] string[] Scopes,
    [property: Id(2)] string[] Inboxes,
    [property: Id(3)] DateTimeOffset? ExpiresAt);

/// <summary>
/// One service key. Key: the key id alone (a lower-case ULID, unique across tenants), because a presented key names its id
/// and not its tenant; the tenant is in the state and every management call states the caller's tenant. Only the SHA-256
/// of the secret is kept (keys carry 32 random bytes, so no slow hash is needed).
/// </summary>
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>Creates the key once; a second call answers conflict.</summary>
    Task<Outcome<ApiKeyInfo>> Create(string tenant, ApiKeySpec spec, byte[] secretHash, string? createdBy);

    /// <summary>The key as the tenant's admins see it, or null when it is unknown or belongs to another tenant.</summary>
    Task<ApiKeyInfo?> Get(string tenant);

    /// <summary>
    /// The key when <paramref name="secretHash"/> matches (constant time) and it is neither revoked nor expired, else null.
    /// Records the use (<c>lastUsedAt</c>, written at most once per coalescing interval).
    /// </summary>
    Task<ApiKeyInfo?> Authenticate(byte[] secretHash);

    /// <summary>Revokes the key at once (the next request with it is refused). False when unknown or another tenant's.</summary>
    Task<bool> Revoke(string tenant);
}

/// <summary>The ids of a tenant's keys, for the list. Key: the tenant.</summary>
public interface IApiKeyDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Records a new key id before the key is created (a listed id without a key is skipped), or refuses at the cap.</summary>
    Task<bool> Add(string keyId);

    /// <summary>Drops a revoked key from the list.</summary>
    Task Remove(string keyId);

    Task<string[]> List();
}
