using Kefu.Contracts.Events;

namespace Kefu.Grains.DataProtection;

/// <summary>
/// The event log's side of a contact's export and erasure (docs/data-protection.md), implemented by both outboxes. The
/// events about a contact: those of its conversations (their own, and tenant-level ones naming them: routes, mails, CRM
/// failures) and those naming the contact itself (contact.created/updated, inbound.received for it).
/// </summary>
public interface IPersonalEventLog
{
    /// <summary>Those events in cursor order, with their public data (messages' data from their rows while they exist).</summary>
    IAsyncEnumerable<StoredEvent> ReadAboutAsync(string tenant, string contactId, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken);

    /// <summary>
    /// Blanks their personal fields (<see cref="PersonalFields"/>) and a visitor's name in their causation; ids, types,
    /// times, seqs and cursors stay. Returns how many events changed (0 when run again).
    /// </summary>
    Task<long> EraseAboutAsync(string tenant, string contactId, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken);
}
