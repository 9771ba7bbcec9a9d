using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;

namespace Kefu.Grains.Contacts;

[GenerateSerializer]
public sealed class ContactState
{
    [Id(0)] public Contact? Contact { get; set; }

    /// <summary>contact.created / contact.updated written with the state and not yet relayed (<see cref="GrainEvents"/>).</summary>
    [Id(1)] public List<DomainEvent> PendingEvents { get; set; } = [];
}

/// <summary>One contact (issue #14): decides and commits; its events ride in its state write (<see cref="GrainEvents"/>).</summary>
public sealed class ContactGrain(
    [PersistentState("contact", KefuStorage.Name)] IPersistentState<ContactState> state,
    IEventLog eventLog,
    TimeProvider time) : Grain, IContactGrain
{
    private (string Tenant, string Id) Key => Tenancy.Split(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken) => GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);

    public Task<Contact?> Get() => Task.FromResult(state.State.Contact);

    public async Task<Contact> Create(string? externalId, ContactPatch patch, Causation causation)
    {
        if (state.State.Contact is { } existing)
        {
            return existing;
        }

        var now = time.GetUtcNow();
        var contact = ContactChanges.Apply(
            new Contact(Key.Id, externalId, null, null, [], [], null, null, now, now), patch, now);
        await CommitAsync(contact, created: true, causation);
        return contact;
    }

    public async Task<Outcome<Contact>> Update(ContactPatch patch, Causation causation)
    {
        if (state.State.Contact is not { } current)
        {
            return KefuError.NotFound("Contact");
        }

        var updated = ContactChanges.Apply(current, patch, time.GetUtcNow());
        if (!ContactChanges.Differs(current, updated))
        {
            return current;
        }

        await CommitAsync(updated, created: false, causation);
        return updated;
    }

    public async Task<Outcome<string>> GetOrStartConversation(string inboxId)
    {
        if (state.State.Contact is not { } contact)
        {
            return KefuError.NotFound("Contact");
        }

        if (contact.VisitorId is null)
        {
            var visitorId = Ulid.NewUlid().ToString();
            await GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(Key.Tenant, visitorId))
                .Register(new VisitorProfile(contact.Name, contact.Email, inboxId, [], time.GetUtcNow()));
            contact = contact with { VisitorId = visitorId, InboxId = inboxId };
            state.State.Contact = contact;
            await state.WriteStateAsync();
        }

        var conversationId = await GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(Key.Tenant, contact.VisitorId)).GetOrStartConversation();
        await LinkConversation(conversationId);
        return conversationId;
    }

    public async Task LinkConversation(string conversationId)
    {
        if (state.State.Contact is not { } contact || contact.ConversationIds.Contains(conversationId, StringComparer.Ordinal))
        {
            return;
        }

        state.State.Contact = contact with { ConversationIds = [.. contact.ConversationIds, conversationId] };
        await state.WriteStateAsync();
    }

    private async Task CommitAsync(Contact contact, bool created, Causation causation)
    {
        state.State.Contact = contact;
        state.State.PendingEvents.Add(GrainEvents.Create(Key.Tenant,
            new ContactChanged(created, contact.ContactId, contact.ExternalId, contact.Name, contact.Email, contact.Attributes), causation, contact.UpdatedAt));
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Nothing of a change whose write failed may outlive it (its event included).
            DeactivateOnIdle();
            throw;
        }

        await GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);
    }
}

/// <summary>Applying a <see cref="ContactPatch"/>: plain rules, unit-tested without a cluster.</summary>
public static class ContactChanges
{
    public static Contact Apply(Contact contact, ContactPatch patch, DateTimeOffset now)
    {
        var attributes = new Dictionary<string, string>(contact.Attributes, StringComparer.Ordinal);
        foreach (var (key, value) in patch.Attributes ?? [])
        {
            if (value is null)
            {
                attributes.Remove(key);
            }
            else
            {
                attributes[key] = value;
            }
        }

        return contact with
        {
            Name = patch.Name ?? contact.Name,
            Email = patch.Email ?? contact.Email,
            Attributes = attributes,
            UpdatedAt = now,
        };
    }

    public static bool Differs(Contact a, Contact b) =>
        a.Name != b.Name || a.Email != b.Email || a.Attributes.Count != b.Attributes.Count
        || a.Attributes.Any(p => !b.Attributes.TryGetValue(p.Key, out var v) || v != p.Value);
}
