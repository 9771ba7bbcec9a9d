using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// One conversation, keyed "{tenant}/{conversationUlid}". The only place its seq is assigned: a message is
/// appended to the message store before it is acked or pushed, so acked means durable and seq has no gaps.
/// </summary>
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>Creates the conversation for a visitor (called by the visitor grain).</summary>
    Task<ConversationSummary> Start(StartConversation command);

    /// <remarks><paramref name="cancellationToken"/>: a caller with a deadline (a routing rule) that has passed is refused before anything is stored.</remarks>
    Task<Outcome<SendAck>> Send(SendMessage command, CancellationToken cancellationToken = default);

    /// <summary>An agent joins (called by the agent grain); the first agent to join an unassigned conversation is assigned.</summary>
    Task<Outcome<JoinResult>> Join(Caller agent, ParticipantPresence presence);

    Task<Outcome<MessagePage>> GetMessages(Caller caller, long afterSeq, int limit);

    Task<Outcome<bool>> Typing(Caller caller, bool on);

    Task<Outcome<long>> MarkRead(Caller caller, long seq);

    /// <summary>A participant's gateways changed (versioned, so a late update never wins over a newer one).</summary>
    [AlwaysInterleave]
    Task UpdatePresence(ParticipantPresence presence);

    [AlwaysInterleave]
    Task<ConversationSummary?> GetSummary();

    /// <summary>From the dispatcher: the conversation now belongs to this agent (idempotent; confirmed back).</summary>
    [OneWay]
    Task Assigned(string agentId);

    /// <summary>From the dispatcher: the waiting visitor's new place in the queue (1 = next).</summary>
    [OneWay]
    Task QueuePositionChanged(int position);

    /// <summary>open, pending, snoozed (with <paramref name="snoozedUntil"/>) or resolved; agents only.</summary>
    Task<Outcome<ConversationSummary>> ChangeStatus(Caller caller, string status, DateTimeOffset? snoozedUntil, CancellationToken cancellationToken = default);

    /// <summary>To one agent (capacity-checked unless the caller is an admin) or to a team's queue.</summary>
    Task<Outcome<ConversationSummary>> Transfer(Caller caller, string? toAgentId, string? toTeamId, CancellationToken cancellationToken = default);

    /// <summary>Replaces the tags and/or sets the priority (null = unchanged); agents only.</summary>
    Task<Outcome<ConversationSummary>> Label(Caller caller, string[]? tags, string? priority, CancellationToken cancellationToken = default);

    Task<Outcome<InternalNote>> AddNote(Caller caller, string text);

    Task<Outcome<InternalNote[]>> GetNotes(Caller caller);

    /// <summary>The visitor's satisfaction rating (1-5) after resolution; once per resolution.</summary>
    Task<Outcome<ConversationSummary>> Rate(Caller visitor, int rating, string? comment);

    /// <summary>
    /// A contact's erasure (docs/data-protection.md): deletes the persisted state (visitor name, notes, rating comment,
    /// tags…) and forgets the message window, then deactivates; afterwards the conversation does not exist. Returns the
    /// records removed (the state and each note); 0 when nothing was there. Idempotent.
    /// </summary>
    Task<long> ErasePersonalData();
}

[GenerateSerializer, Immutable]
public sealed record StartConversation(
    [property: Id(0)] string Inbox,
    [property: Id(1)] string VisitorId,
    [property: Id(2)] string? VisitorName,
    [property: Id(3)] ParticipantPresence VisitorPresence);

[GenerateSerializer, Immutable]
public sealed record SendMessage(
    [property: Id(0)] Caller Caller,
    [property: Id(1)] string ClientMsgId,
    [property: Id(2)] string Text,
    [property: Id(3)] string? ConnectionId,
    [property: Id(4)] MessageContent? Content = null);
