using System.Security.Cryptography;
using Kefu.Contracts.Grains;
using Kefu.Grains.ApiKeys;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ApiKeys;

/// <summary>Service API keys (issue #14, INTEGRATION.md §1): the key grain and its rules.</summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class ApiKeyGrainTests(DefaultClusterFixture fixture)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task A_key_authenticates_only_with_its_secret_and_not_once_revoked()
    {
        var tenant = Scenario.NewTenant();
        var (grain, hash) = await CreateAsync(tenant);

        var accepted = await grain.Authenticate(hash);
        Assert.NotNull(accepted);
        Assert.Equal(tenant, accepted.Tenant);
        Assert.Equal(["events:read"], accepted.Scopes);
        Assert.Null(await grain.Authenticate(SHA256.HashData("wrong"u8)));

        Assert.True(await grain.Revoke(tenant));
        Assert.Null(await grain.Authenticate(hash));
        Assert.NotNull((await grain.Get(tenant))!.RevokedAt);

        // Revoked stays revoked after the grain goes idle.
        await fixture.Cluster.DeactivateAsync(grain);
        Assert.Null(await grain.Authenticate(hash));
    }

    [Fact]
    public async Task Another_tenant_neither_sees_nor_revokes_a_key()
    {
        var (grain, hash) = await CreateAsync(Scenario.NewTenant());

        var other = Scenario.NewTenant();
        Assert.Null(await grain.Get(other));
        Assert.False(await grain.Revoke(other));
        Assert.NotNull(await grain.Authenticate(hash));
    }

    [Fact]
    public async Task A_key_is_created_once()
    {
        var tenant = Scenario.NewTenant();
        var (grain, _) = await CreateAsync(tenant);
        var again = await grain.Create(tenant, new ApiKeySpec("again", ["events:write"], [], null), SHA256.HashData("other"u8), "admin");
        Assert.Equal("conflict", again.Error?.Code);
    }

    [Fact]
    public async Task Last_use_is_shown_at_once_and_outlives_deactivation()
    {
        var tenant = Scenario.NewTenant();
        var (grain, hash) = await CreateAsync(tenant);
        Assert.Null((await grain.Get(tenant))!.LastUsedAt);

        await grain.Authenticate(hash);
        var first = (await grain.Get(tenant))!.LastUsedAt;
        Assert.NotNull(first);

        // The second use within the write interval is only in memory; deactivation writes it.
        await grain.Authenticate(hash);
        var second = (await grain.Get(tenant))!.LastUsedAt;
        Assert.True(second >= first);
        await fixture.Cluster.DeactivateAsync(grain);
        Assert.Equal(second, (await grain.Get(tenant))!.LastUsedAt);
    }

    [Fact]
    public async Task The_directory_lists_added_ids_up_to_its_cap()
    {
        var directory = Client.GetGrain<IApiKeyDirectoryGrain>(Scenario.NewTenant());
        for (var i = 0; i < ApiKeyDirectoryGrain.MaxKeys; i++)
        {
            Assert.True(await directory.Add("k" + i));
        }

        Assert.False(await directory.Add("one-too-many"));
        Assert.True(await directory.Add("k0")); // already listed: no change
        await directory.Remove("k0");
        Assert.True(await directory.Add("one-too-many"));
        Assert.Equal(ApiKeyDirectoryGrain.MaxKeys, (await directory.List()).Length);
    }

    [Fact]
    public void A_key_is_honoured_until_its_expiry_and_never_when_revoked_or_mismatched()
    {
        var key = Key(expiresAt: T0.AddHours(1));
        Assert.True(ApiKeyCheck.Accepts(key, secretMatches: true, T0));
        Assert.True(ApiKeyCheck.Accepts(key, secretMatches: true, T0.AddHours(1).AddTicks(-1)));
        Assert.False(ApiKeyCheck.Accepts(key, secretMatches: true, T0.AddHours(1)));
        Assert.False(ApiKeyCheck.Accepts(key, secretMatches: false, T0));
        Assert.False(ApiKeyCheck.Accepts(key with { RevokedAt = T0 }, secretMatches: true, T0));
        Assert.False(ApiKeyCheck.Accepts(null, secretMatches: true, T0));
        Assert.True(ApiKeyCheck.Accepts(Key(expiresAt: null), secretMatches: true, T0.AddYears(10)));
    }

    [Fact]
    public void Last_use_is_written_on_first_use_then_at_most_once_per_interval()
    {
        Assert.True(LastUse.WriteDue(null, T0));
        Assert.False(LastUse.WriteDue(T0, T0.AddSeconds(59)));
        Assert.True(LastUse.WriteDue(T0, T0 + LastUse.WriteInterval));
    }

    private async Task<(IApiKeyGrain Grain, byte[] Hash)> CreateAsync(string tenant)
    {
        var keyId = Ulid.NewUlid().ToString().ToLowerInvariant();
        var hash = SHA256.HashData(Guid.NewGuid().ToByteArray());
        var grain = Client.GetGrain<IApiKeyGrain>(keyId);
        (await grain.Create(tenant, new ApiKeySpec("ERP", ["events:read"], [], null), hash, "admin")).Ok();
        return (grain, hash);
    }

    private static ApiKeyInfo Key(DateTimeOffset? expiresAt) =>
        new("k", "t", "ERP", ["events:read"], [], T0, expiresAt, null, null, "admin");
}
