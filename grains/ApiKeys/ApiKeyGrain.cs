using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.ApiKeys;

[GenerateSerializer]
public sealed class ApiKeyState
{
    /// <summary>The key as listed; its <c>LastUsedAt</c> is the last one written (the grain holds a newer one in memory).</summary>
    [Id(0)] public ApiKeyInfo? Key { get; set; }

    /// <summary>SHA-256 of the secret part: the secret itself is never stored.</summary>
    [Id(1)] public byte[] SecretHash { get; set; } = [];
}

/// <summary>
/// One service API key (INTEGRATION.md §1). Asked on every request made with the key, without a gateway cache, so a
/// revocation or an expiry holds from the very next request (as agent tokens do, see AgentSessions). The use is kept in
/// memory and written at most once per <see cref="LastUse.WriteInterval"/>, not once per request.
/// </summary>
public sealed partial class ApiKeyGrain(
    [PersistentState("apiKey", KefuStorage.Name)] IPersistentState<ApiKeyState> state,
    TimeProvider time,
    ILogger<ApiKeyGrain> logger) : Grain, IApiKeyGrain
{
    private DateTimeOffset? _lastUsedAt;

    private ApiKeyInfo? Current => state.State.Key is { } key ? key with { LastUsedAt = _lastUsedAt ?? key.LastUsedAt } : null;

    public async Task<Outcome<ApiKeyInfo>> Create(string tenant, ApiKeySpec spec, byte[] secretHash, string? createdBy)
    {
        if (state.State.Key is not null)
        {
            return new KefuError(ErrorCodes.Conflict, "This key id is taken.");
        }

        var key = new ApiKeyInfo(
            this.GetPrimaryKeyString(), tenant, spec.Name, spec.Scopes, spec.Inboxes, time.GetUtcNow(), spec.ExpiresAt,
            LastUsedAt: null, RevokedAt: null, createdBy);
        state.State.Key = key;
        state.State.SecretHash = secretHash;
        await state.WriteStateAsync();
        return key;
    }

    public Task<ApiKeyInfo?> Get(string tenant) =>
        Task.FromResult(state.State.Key?.Tenant == tenant ? Current : null);

    public async Task<ApiKeyInfo?> Authenticate(byte[] secretHash)
    {
        // The hash is compared first and in constant time, whatever else is wrong with the key.
        var matches = CryptographicOperations.FixedTimeEquals(secretHash, state.State.SecretHash);
        var now = time.GetUtcNow();
        if (!ApiKeyCheck.Accepts(state.State.Key, matches, now) || state.State.Key is not { } key)
        {
            if (state.State.Key is null)
            {
                // Made-up ids must not keep grains alive.
                DeactivateOnIdle();
            }

            return null;
        }

        _lastUsedAt = now;
        if (LastUse.WriteDue(key.LastUsedAt, now))
        {
            await WriteLastUseAsync(now);
        }

        return Current;
    }

    public async Task<bool> Revoke(string tenant)
    {
        if (state.State.Key is not { } key || key.Tenant != tenant)
        {
            return false;
        }

        if (key.RevokedAt is null)
        {
            state.State.Key = key with { RevokedAt = time.GetUtcNow(), LastUsedAt = _lastUsedAt ?? key.LastUsedAt };
            await state.WriteStateAsync();
        }

        return true;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The last use since the last write is not lost when the grain goes idle (it is when the silo dies: at most one
        // interval of lastUsedAt, which is information, not security).
        if (_lastUsedAt is { } used && state.State.Key is { } key && key.LastUsedAt != used)
        {
            await WriteLastUseAsync(used);
        }
    }

    private async Task WriteLastUseAsync(DateTimeOffset used)
    {
        var before = state.State.Key!;
        state.State.Key = before with { LastUsedAt = used };
        try
        {
            await state.WriteStateAsync();
        }
#pragma warning disable CA1031 // recording the use must not refuse a valid key; the next due write tries again
        catch (Exception ex)
#pragma warning restore CA1031
        {
            state.State.Key = before;
            LogLastUseWriteFailed(logger, ex, before.KeyId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "API key {KeyId}: writing its last use failed; tried again on a later use")]
    private static partial void LogLastUseWriteFailed(ILogger logger, Exception exception, string keyId);
}

/// <summary>Whether a presented key is honoured: it exists, its secret matches, it is not revoked and not yet expired.</summary>
public static class ApiKeyCheck
{
    public static bool Accepts(ApiKeyInfo? key, bool secretMatches, DateTimeOffset now) =>
        secretMatches && key is { RevokedAt: null } && (key.ExpiresAt is not { } expiresAt || now < expiresAt);
}

/// <summary>When a key's use is written: the first use, then at most once per interval (a busy key costs one write a minute).</summary>
public static class LastUse
{
    public static readonly TimeSpan WriteInterval = TimeSpan.FromMinutes(1);

    public static bool WriteDue(DateTimeOffset? written, DateTimeOffset now) => written is not { } at || now - at >= WriteInterval;
}
