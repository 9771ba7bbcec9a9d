using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Events;

/// <summary>
/// Reacts to a conversation's committed change (gateway push, directory, tenant console, agents' rosters, later
/// webhooks and rules). Called after the commit, inside the conversation's turn: it must return at once (queue the
/// work, never await another grain or the database here) and must not throw. Registered as singletons.
/// </summary>
public interface IConversationEventSink
{
    void OnCommitted(CommittedChange change);
}

/// <summary>
/// What a conversation committed: its events (in seq order; possibly none, e.g. a read mark or queue position), its
/// summary right after, and who listens (for the push sink).
/// </summary>
public sealed record CommittedChange(
    string Tenant,
    string ConversationId,
    IReadOnlyList<DomainEvent> Events,
    ConversationSummary Summary,
    AudienceSnapshot Audience,
    string? OriginConnectionId = null);

/// <summary>The conversation's participants and the gateways holding their connections, at the time of the change.</summary>
public sealed record AudienceSnapshot(string VisitorKey, IReadOnlyDictionary<string, string[]> GatewaysByParticipant);
