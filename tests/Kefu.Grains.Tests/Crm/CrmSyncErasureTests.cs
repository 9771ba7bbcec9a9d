using Kefu.Contracts.Grains;
using Kefu.Grains.Crm;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Grains.Tests.Crm;

/// <summary>
/// A CRM sync record's erasure (docs/data-protection.md, "CRM sync records") against the fake CRM: an attempt already
/// talking to the CRM is waited for, so none of its requests arrives after the erasure answered, its result is ignored,
/// and nothing syncs the record again.
/// </summary>
[Collection(CrmCollection.Name)]
public sealed class CrmSyncErasureTests(CrmFixture fixture)
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task An_erasure_during_an_upsert_waits_for_its_requests_then_ignores_its_result_and_nothing_syncs_again()
    {
        // "slow" is shared with another test: only this contact's requests are stalled and looked at.
        var crm = fixture.Crm.For("slow");
        var contactId = string.Empty;
        crm.Script = (request, _) => request.IsWrite && contactId.Length > 0 && request.Path.Contains(contactId, StringComparison.Ordinal)
            ? new CrmFault(Delay: Stall)
            : null;
        var contact = await fixture.NewContactAsync("slow", "Eve Erased", "eve@example.com");
        Volatile.Write(ref contactId, contact.ContactId);
        var grains = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var key = CrmSyncKeys.Of(CrmFixture.TenantOf("slow"), "slow", CrmRecordKinds.Contact, contact.ContactId);
        var record = grains.GetGrain<ICrmSyncRecordData>(key);

        // The upsert is on its way (the CRM answers it a second later).
        var write = await Scenario.EventuallyAsync(
            () => Task.FromResult(crm.Requests.FirstOrDefault(r => r.IsWrite && r.Path.Contains(contact.ContactId, StringComparison.Ordinal))),
            r => r is not null, "the upsert sent");

        Assert.True(await record.Erase());
        var erasedAt = DateTimeOffset.UtcNow;

        // The erasure answered only after the CRM had answered the upsert and the attempt had read the record back.
        Assert.True(erasedAt - write!.At >= Stall - TimeSpan.FromMilliseconds(100), $"erased {erasedAt - write.At} after the upsert arrived");
        Assert.Contains(crm.Requests, r => !r.IsWrite && r.Path.Contains(contact.ContactId, StringComparison.Ordinal) && r.At > write.At && r.At < erasedAt);

        // The attempt's result stored nothing, and neither a trigger's touch nor a retry starts the record again.
        var sync = grains.GetGrain<ICrmSyncGrain>(key);
        await sync.Touch(long.MaxValue);
        Assert.Null(await sync.Retry());
        Assert.Null(await sync.Get());
        Assert.Null(await record.Export());
        Assert.False(await record.Erase()); // idempotent: nothing left to forget
        await fixture.UpdateContactAsync("slow", contact.ContactId, new ContactPatch("Eve Again", null, null));
        await sync.Touch(long.MaxValue - 1);
        Assert.Null(await sync.Get());
        Assert.DoesNotContain(crm.Requests, r => r.Path.Contains(contact.ContactId, StringComparison.Ordinal) && r.At > erasedAt);
    }
}
