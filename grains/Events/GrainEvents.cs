using Kefu.Contracts.Events;

namespace Kefu.Grains.Events;

/// <summary>
/// The outbox pattern for grains other than conversations (contacts, inbound events, webhook endpoints): an event is
/// added to the grain's state (<c>PendingEvents</c>) and written with it, so it exists if and only if the change is
/// durable; right after the write it is relayed to <see cref="IEventLog"/> (idempotent by event id) and dropped from the
/// pending list (persisted with the next write). A relay that fails, or a silo that dies after the write, leaves it
/// pending: the grain relays again on activation and before its next change.
/// </summary>
public static class GrainEvents
{
    /// <summary>A tenant-level event (no conversation: no envelope conversationId, seq 0).</summary>
    public static DomainEvent Create(string tenant, EventData data, Causation causation, DateTimeOffset now) =>
        new(Ulid.NewUlid(now), tenant, ConversationId: null, Seq: 0, now, causation, data);

    /// <summary>
    /// Relays <paramref name="pending"/> (after the state holding them was written); clears the list on success. Never
    /// throws: false means they stay pending for the next try.
    /// </summary>
    public static async Task<bool> RelayAsync(IEventLog log, List<DomainEvent> pending)
    {
        if (pending.Count == 0)
        {
            return true;
        }

        try
        {
            await log.AppendAsync([.. pending]);
            pending.Clear();
            return true;
        }
#pragma warning disable CA1031 // the events stay pending and are relayed again; the caller's change is already durable
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }
}
