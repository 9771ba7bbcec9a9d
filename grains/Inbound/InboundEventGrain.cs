using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Inbound;

/// <summary>
/// One sender event id (INTEGRATION.md §3). Orleans runs one call at a time here, so fifty concurrent posts of the same id
/// make one event: the first records it, the rest find the record. The record and its inbound.received event are stored
/// together (<see cref="IInboundRecordStore"/>: one MySQL transaction, batched with other ids' records in cluster mode),
/// so the event exists if and only if the answer 202 could be given. No Orleans grain state: a new id costs one batched
/// lookup and one batched write, not a state read and a state upsert of its own.
/// Short collection age: nearly every id is seen once, and a million idle activations would only cost memory.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class InboundEventGrain(
    IInboundRecordStore records,
    Routing.Runtime.RoutingWakeups routingWakeups,
    Webhooks.WebhookWakeups webhookWakeups,
    ConversationEvents.ConversationEventsWakeups kafkaWakeups,
    IOptions<InboundOptions> options,
    TimeProvider time) : Grain, IInboundEventGrain
{
    private InboundRecord? _record;
    private bool _loaded;

    public async Task<Outcome<InboundAck>> Accept(InboundEvent inbound, Caller caller)
    {
        var now = time.GetUtcNow();
        var (tenant, sourceId) = Tenancy.Split(this.GetPrimaryKeyString());
        if (!_loaded)
        {
            _record = await records.FindAsync(tenant, sourceId);
            _loaded = true;
        }

        if (Answer(_record, inbound, now) is { } known)
        {
            return known;
        }

        var causation = Causation.Of(caller);
        var target = await ResolveAsync(tenant, inbound, causation);
        if (target.Error is { } refused)
        {
            return refused;
        }

        var (conversationId, contactId) = target.Value;
        var received = GrainEvents.Create(tenant,
            new InboundReceived(inbound.SourceId, inbound.Type, contactId, inbound.ExternalId, inbound.DataJson, conversationId, now + inbound.Timeout), causation, now);
        var record = new InboundRecord(tenant, sourceId, inbound.BodyHash, new InboundAck(received.Id.ToString(), Replayed: false, conversationId, contactId), now);
        try
        {
            _record = await records.SaveAsync(record, received, now - options.Value.DedupRetention);
        }
        catch
        {
            // Unknown whether it was stored: the next call looks it up again.
            _loaded = false;
            throw;
        }

        // Another activation of this id (Orleans may briefly run two) stored its record first: answer as a repeat of it.
        if (!ReferenceEquals(_record, record))
        {
            return Answer(_record, inbound, now) ?? record.Answer;
        }

        // The event went to the log with its record, not through IEventLog (cluster mode): wake this silo's router,
        // webhook endpoints and Kafka relay of the tenant now rather than at their next poll.
        routingWakeups.Notify(tenant, [received]);
        webhookWakeups.Notify(tenant);
        kafkaWakeups.Notify(tenant);
        return record.Answer;
    }

    /// <summary>The answer a current record gives (a replay, or the mismatch error); null when the id counts as new.</summary>
    private Outcome<InboundAck>? Answer(InboundRecord? record, InboundEvent inbound, DateTimeOffset now)
    {
        if (record is null || !InboundRecords.IsCurrent(record.AcceptedAt, now, options.Value.DedupRetention))
        {
            return null;
        }

        return string.Equals(record.BodyHash, inbound.BodyHash, StringComparison.Ordinal)
            ? record.Answer with { Replayed = true }
            : new KefuError(InboundErrors.IdempotencyMismatch, "This id was used before with a different body.");
    }

    /// <summary>The conversation the event addresses: the given one (if it is there and the caller's), or the contact's current one.</summary>
    private async Task<Outcome<(string? ConversationId, string? ContactId)>> ResolveAsync(string tenant, InboundEvent inbound, Causation causation)
    {
        if (inbound.ConversationId is { } conversationId)
        {
            var summary = await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(tenant, conversationId)).GetSummary();
            if (summary is null)
            {
                return KefuError.NotFound("Conversation");
            }

            return InboundRecords.AllowsInbox(inbound.AllowedInboxes, summary.Inbox)
                ? (conversationId, (string?)null)
                : KefuError.NotAllowed("This key may not act in the conversation's inbox.");
        }

        if (inbound.ExternalId is not { } externalId)
        {
            return ((string?)null, (string?)null);
        }

        if (!InboundRecords.AllowsInbox(inbound.AllowedInboxes, inbound.InboxId))
        {
            return KefuError.NotAllowed("This key may not act in that inbox.");
        }

        var seed = new ContactPatch(inbound.Name, inbound.Email);
        var lookup = await GrainFactory.GetGrain<IContactIndexGrain>(Tenancy.Key(tenant, externalId)).FindOrCreate(seed, causation);
        var contact = GrainFactory.GetGrain<IContactGrain>(Tenancy.Key(tenant, lookup.Contact.ContactId));
        if (!lookup.Created && (inbound.Name is not null || inbound.Email is not null))
        {
            // The sender knows the customer's current name and email better than an old record does.
            await contact.Update(seed, causation);
        }

        var conversation = await contact.GetOrStartConversation(inbound.InboxId);
        return conversation.Error is { } error ? error : (conversation.Value, lookup.Contact.ContactId);
    }
}

/// <summary>The record's plain rules, unit-tested without a cluster.</summary>
public static class InboundRecords
{
    /// <summary>A record is answered from while younger than the retention window; after it the id counts as new.</summary>
    public static bool IsCurrent(DateTimeOffset acceptedAt, DateTimeOffset now, TimeSpan retention) => now - acceptedAt < retention;

    public static bool AllowsInbox(string[]? allowed, string inbox) => allowed is not { Length: > 0 } || Array.IndexOf(allowed, inbox) >= 0;
}
