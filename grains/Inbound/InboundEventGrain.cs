using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Inbound;

[GenerateSerializer]
public sealed class InboundEventState
{
    /// <summary>The accepted body's hash: the same id with another body is refused.</summary>
    [Id(0)] public string? BodyHash { get; set; }

    /// <summary>The original answer, replayed for the same id.</summary>
    [Id(1)] public InboundAck? Answer { get; set; }

    [Id(2)] public DateTimeOffset AcceptedAt { get; set; }

    /// <summary>inbound.received written with the record and not yet relayed (<see cref="GrainEvents"/>).</summary>
    [Id(3)] public List<DomainEvent> PendingEvents { get; set; } = [];
}

/// <summary>
/// The durable deduplication record of one sender event id (INTEGRATION.md §3). Orleans runs one call at a time here, so
/// fifty concurrent posts of the same id make one event: the first records it, the rest find the record. The record and
/// its inbound.received event are one state write, so the event exists if and only if the answer 202 could be given.
/// Short collection age: nearly every id is seen once, and a million idle activations would only cost memory.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class InboundEventGrain(
    [PersistentState("inbound", KefuStorage.Name)] IPersistentState<InboundEventState> state,
    IEventLog eventLog,
    IOptions<InboundOptions> options,
    TimeProvider time) : Grain, IInboundEventGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) => GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);

    public async Task<Outcome<InboundAck>> Accept(InboundEvent inbound, Caller caller)
    {
        var now = time.GetUtcNow();
        var s = state.State;
        if (s.Answer is { } answer && InboundRecords.IsCurrent(s.AcceptedAt, now, options.Value.DedupRetention))
        {
            if (!string.Equals(s.BodyHash, inbound.BodyHash, StringComparison.Ordinal))
            {
                return new KefuError(InboundErrors.IdempotencyMismatch, "This id was used before with a different body.");
            }

            // A relay that failed earlier is retried before the answer is repeated: the answer promises the event.
            return await GrainEvents.RelayAsync(eventLog, s.PendingEvents)
                ? answer with { Replayed = true }
                : new KefuError(ErrorCodes.Unavailable, "The event is recorded but could not be published yet; try again.");
        }

        var (tenant, _) = Tenancy.Split(this.GetPrimaryKeyString());
        var causation = Causation.Of(caller);
        var target = await ResolveAsync(tenant, inbound, causation);
        if (target.Error is { } refused)
        {
            return refused;
        }

        var (conversationId, contactId) = target.Value;
        var received = GrainEvents.Create(tenant,
            new InboundReceived(inbound.SourceId, inbound.Type, contactId, inbound.ExternalId, inbound.DataJson, conversationId, now + inbound.Timeout), causation, now);
        var ack = new InboundAck(received.Id.ToString(), Replayed: false, conversationId, contactId);
        s.BodyHash = inbound.BodyHash;
        s.Answer = ack;
        s.AcceptedAt = now;
        s.PendingEvents.Add(received);
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Nothing of a record whose write failed may outlive it (its event included): the retry starts afresh.
            DeactivateOnIdle();
            throw;
        }

        // Durable now. If the relay fails the event stays pending (relayed on the next call or activation) and the
        // sender is told to retry, so nobody takes an event for published that is not in the log yet.
        return await GrainEvents.RelayAsync(eventLog, s.PendingEvents)
            ? ack
            : new KefuError(ErrorCodes.Unavailable, "The event is recorded but could not be published yet; try again.");
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
