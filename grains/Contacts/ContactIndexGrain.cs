using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Contacts;

[GenerateSerializer]
public sealed class ContactIndexState
{
    [Id(0)] public string? ContactId { get; set; }
}

/// <summary>
/// External id → contact id. The id is chosen and written here before the contact is created, so a crash between the
/// two leaves an index entry whose contact the next lookup creates (Create is idempotent), never two contacts.
/// </summary>
public sealed class ContactIndexGrain(
    [PersistentState("contactIndex", KefuStorage.Name)] IPersistentState<ContactIndexState> state) : Grain, IContactIndexGrain
{
    public Task<string?> Find() => Task.FromResult(state.State.ContactId);

    public async Task<ContactLookup> FindOrCreate(ContactPatch seed, Causation causation)
    {
        var (tenant, externalId) = Tenancy.Split(this.GetPrimaryKeyString());
        if (state.State.ContactId is null)
        {
            state.State.ContactId = Ulid.NewUlid().ToString();
            await state.WriteStateAsync();
        }

        var contact = GrainFactory.GetGrain<IContactGrain>(Tenancy.Key(tenant, state.State.ContactId));
        if (await contact.Get() is { } existing)
        {
            return new ContactLookup(existing, Created: false);
        }

        return new ContactLookup(await contact.Create(externalId, seed, causation), Created: true);
    }

    public async Task<bool> Forget(string contactId)
    {
        if (state.State.ContactId != contactId)
        {
            return false;
        }

        await state.ClearStateAsync();
        state.State = new ContactIndexState();
        DeactivateOnIdle();
        return true;
    }
}
