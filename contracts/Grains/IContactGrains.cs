using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// A customer the business knows (issue #14): its own id for them (<see cref="ExternalId"/>), name, email, attributes,
/// and the conversations they had. <see cref="VisitorId"/> is the visitor identity the contact chats as (a registered
/// visitor of <see cref="InboxId"/>), created on first need, so a conversation can be started for a contact that never
/// opened the widget (an order event for a customer).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Contact(
    [property: Id(0)] string ContactId,
    [property: Id(1)] string? ExternalId,
    [property: Id(2)] string? Name,
    [property: Id(3)] string? Email,
    [property: Id(4)] Dictionary<string, string> Attributes,
    [property: Id(5)] string[] ConversationIds,
    [property: Id(6)] string? VisitorId,
    [property: Id(7)] string? InboxId,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] DateTimeOffset UpdatedAt);

/// <summary>A change to a contact: null members stay as they are; an attribute whose value is null is removed.</summary>
[GenerateSerializer, Immutable]
public sealed record ContactPatch(
    [property: Id(0)] string? Name = null,
    [property: Id(1)] string? Email = null,
    [property: Id(2)] Dictionary<string, string?>? Attributes = null);

/// <summary>What <see cref="IContactIndexGrain.FindOrCreate"/> found or made.</summary>
[GenerateSerializer, Immutable]
public sealed record ContactLookup(
    [property: Id(0)] Contact Contact,
    [property: Id(1)] bool Created);

/// <summary>One contact. Key: <c>Tenancy.Key(tenant, contactId)</c>; contact ids are ULIDs.</summary>
public interface IContactGrain : IGrainWithStringKey
{
    /// <summary>The contact, or null when it does not exist; its conversations include those of every linked visitor.</summary>
    Task<Contact?> Get();

    /// <summary>Creates the contact (once; a second call returns the existing one unchanged). Emits contact.created.</summary>
    Task<Contact> Create(string? externalId, ContactPatch patch, Causation causation);

    /// <summary>
    /// Applies <paramref name="patch"/>; emits contact.updated when something changed. not_found when it does not exist;
    /// invalid_field / invalid_attributes when the result is out of the bounds of <c>ContactRules</c> (nothing changes).
    /// </summary>
    Task<Outcome<Contact>> Update(ContactPatch patch, Causation causation);

    /// <summary>
    /// The contact's current conversation in <paramref name="inboxId"/>'s tenant: its visitor's open one, or a new one
    /// (registering the contact's visitor in that inbox first if it has none). not_found when the contact does not exist.
    /// </summary>
    Task<Outcome<string>> GetOrStartConversation(string inboxId);

    /// <summary>Records that <paramref name="conversationId"/> belongs to this contact (idempotent).</summary>
    Task LinkConversation(string conversationId);

    /// <summary>
    /// The visitor this contact chats as in <paramref name="inboxId"/> (a widget that identified the customer gets it, so
    /// the customer sees their conversation on any device): the one it has, or a new one registered from
    /// <paramref name="seed"/> and linked to the contact. not_found when the contact does not exist.
    /// </summary>
    Task<Outcome<string>> VisitorFor(string inboxId, VisitorProfile seed);

    /// <summary>
    /// An existing visitor identified as this contact (the anonymous visitor who signed in, already linked by
    /// <see cref="IVisitorGrain.LinkContact"/>): its conversations, past and future, become the contact's, and it becomes
    /// the contact's visitor in <paramref name="inboxId"/> when the contact has none there yet.
    /// </summary>
    Task AttachVisitor(string visitorId, string inboxId);

    /// <summary>Every visitor identified as this contact (export and erasure, docs/data-protection.md); empty when it does not exist.</summary>
    Task<string[]> GetVisitorIds();

    /// <summary>Deletes the contact's state (profile, attributes, external id, links); true when there was one. Idempotent.</summary>
    Task<bool> Erase();
}

/// <summary>
/// The business's own id for a customer → the contact. Key: <c>Tenancy.Key(tenant, externalId)</c>; one grain per
/// external id serializes concurrent lookups, so two events for a new customer create one contact.
/// </summary>
public interface IContactIndexGrain : IGrainWithStringKey
{
    /// <summary>The contact id for this external id, or null.</summary>
    Task<string?> Find();

    /// <summary>The contact with this external id; created with <paramref name="seed"/> when there is none.</summary>
    Task<ContactLookup> FindOrCreate(ContactPatch seed, Causation causation);

    /// <summary>Forgets the mapping when it names <paramref name="contactId"/> (erasure); true when it did. Idempotent.</summary>
    Task<bool> Forget(string contactId);
}
