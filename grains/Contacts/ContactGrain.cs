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

    /// <summary>The visitor the contact chats as, per inbox (a visitor belongs to one inbox).</summary>
    [Id(2)] public Dictionary<string, string> VisitorsByInbox { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Every visitor identified as the contact (its conversations are the contact's).</summary>
    [Id(3)] public List<string> Visitors { get; set; } = [];
}

/// <summary>One contact (issue #14): decides and commits; its events ride in its state write (<see cref="GrainEvents"/>).</summary>
public sealed class ContactGrain(
    [PersistentState("contact", KefuStorage.Name)] IPersistentState<ContactState> state,
    IEventLog eventLog,
    TimeProvider time) : Grain, IContactGrain
{
    private (string Tenant, string Id) Key => Tenancy.Split(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken) => GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);

    public async Task<Contact?> Get()
    {
        if (state.State.Contact is not { } contact || state.State.Visitors.Count == 0)
        {
            return state.State.Contact;
        }

        // Visitors start conversations without telling the contact (no call back into it, so no cycle): ask them.
        var lists = await Task.WhenAll(state.State.Visitors.Select(v => Visitor(v).ListConversations()));
        var all = contact.ConversationIds.Concat(lists.SelectMany(l => l)).Distinct(StringComparer.Ordinal);
        return contact with { ConversationIds = [.. all.Order(StringComparer.Ordinal)] }; // ULIDs: oldest first
    }

    public async Task<Contact> Create(string? externalId, ContactPatch patch, Causation causation)
    {
        if (state.State.Contact is { } existing)
        {
            return existing;
        }

        // A seed out of bounds (from a widget or an inbound event) does not stop the contact from existing: its fields are
        // left out instead, and the API that takes them checks them first.
        if (ContactRules.Check(patch) is not null)
        {
            patch = new ContactPatch();
        }

        var now = time.GetUtcNow();
        var contact = ContactChanges.Apply(new Contact(Key.Id, externalId, null, null, [], [], null, null, now, now), patch, now);
        if (ContactRules.CheckTotal(contact.Attributes) is not null)
        {
            contact = contact with { Attributes = [] };
        }

        await CommitAsync(contact, created: true, causation);
        return contact;
    }

    public async Task<Outcome<Contact>> Update(ContactPatch patch, Causation causation)
    {
        if (state.State.Contact is not { } current)
        {
            return KefuError.NotFound("Contact");
        }

        if (ContactRules.Check(patch) is { } invalid)
        {
            return invalid;
        }

        var updated = ContactChanges.Apply(current, patch, time.GetUtcNow());
        if (ContactRules.CheckTotal(updated.Attributes) is { } tooMany)
        {
            return tooMany;
        }

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

        var visitorId = await EnsureVisitorAsync(contact, inboxId,
            new VisitorProfile(contact.Name, contact.Email, inboxId, [], time.GetUtcNow()));
        var conversationId = await Visitor(visitorId).GetOrStartConversation();
        await LinkConversation(conversationId);
        return conversationId;
    }

    public async Task<Outcome<string>> VisitorFor(string inboxId, VisitorProfile seed)
    {
        if (state.State.Contact is not { } contact)
        {
            return KefuError.NotFound("Contact");
        }

        return await EnsureVisitorAsync(contact, inboxId, seed with { Inbox = inboxId });
    }

    public async Task AttachVisitor(string visitorId, string inboxId)
    {
        if (state.State.Contact is not { } contact)
        {
            return;
        }

        var newVisitor = !state.State.Visitors.Contains(visitorId, StringComparer.Ordinal);
        var becomesInboxVisitor = !state.State.VisitorsByInbox.ContainsKey(inboxId);
        if (!newVisitor && !becomesInboxVisitor)
        {
            return;
        }

        if (newVisitor)
        {
            state.State.Visitors.Add(visitorId);
        }

        if (becomesInboxVisitor)
        {
            state.State.VisitorsByInbox[inboxId] = visitorId;
            state.State.Contact = contact with { VisitorId = contact.VisitorId ?? visitorId, InboxId = contact.InboxId ?? inboxId };
        }

        await state.WriteStateAsync();
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

    public Task<string[]> GetVisitorIds() => Task.FromResult(state.State.Contact is null ? [] : state.State.Visitors.ToArray());

    public async Task<bool> Erase()
    {
        // The whole row goes (profile, external id, links, unrelayed events): an erased contact is one that never was.
        var existed = state.State.Contact is not null || state.RecordExists;
        if (existed)
        {
            await state.ClearStateAsync();
            state.State = new ContactState();
        }

        DeactivateOnIdle();
        return existed;
    }

    /// <summary>
    /// The contact's visitor in <paramref name="inboxId"/>, registered (linked to the contact) when it has none there or
    /// the one it had is gone (a visitor that never wrote expires).
    /// </summary>
    private async Task<string> EnsureVisitorAsync(Contact contact, string inboxId, VisitorProfile seed)
    {
        if (state.State.VisitorsByInbox.TryGetValue(inboxId, out var known) && await Visitor(known).GetProfile() is not null)
        {
            return known;
        }

        var visitorId = Ulid.NewUlid().ToString();
        await Visitor(visitorId).Register(seed with { Inbox = inboxId, ContactId = contact.ContactId });
        state.State.VisitorsByInbox[inboxId] = visitorId;
        state.State.Visitors.Add(visitorId);
        state.State.Contact = contact with { VisitorId = visitorId, InboxId = inboxId };
        await state.WriteStateAsync();
        return visitorId;
    }

    private IVisitorGrain Visitor(string visitorId) => GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(Key.Tenant, visitorId));

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
            Name = Text(patch.Name, contact.Name),
            Email = Text(patch.Email, contact.Email),
            Attributes = attributes,
            UpdatedAt = now,
        };
    }

    public static bool Differs(Contact a, Contact b) =>
        a.Name != b.Name || a.Email != b.Email || a.Attributes.Count != b.Attributes.Count
        || a.Attributes.Any(p => !b.Attributes.TryGetValue(p.Key, out var v) || v != p.Value);

    /// <summary>Null keeps the value; an empty (or blank) one clears it; anything else is trimmed.</summary>
    private static string? Text(string? given, string? current) => given is null ? current : given.Trim() is { Length: > 0 } t ? t : null;
}
