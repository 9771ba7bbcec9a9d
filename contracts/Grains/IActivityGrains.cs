using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// A conversation's activity timeline (issue #18): who assigned, transferred, resolved, tagged or rated it, which rules
/// ran on it, and how its CRM sync and emails went, read from the event log. A stateless worker keyed by tenant, so
/// gateways never talk to the database; the caller has already been checked against the conversation.
/// </summary>
public interface IConversationActivityGrain : IGrainWithStringKey
{
    /// <summary>The conversation's timeline items with a cursor greater than <paramref name="after"/>, in cursor order, at most <paramref name="limit"/>.</summary>
    Task<ActivityPage> Read(string conversationId, long after, int limit);
}

/// <summary>
/// Tells agents named with <c>@id</c> in an internal note that they were mentioned (a push to their consoles). A
/// stateless worker keyed by tenant; called one-way by the conversation's event sink after the note is committed.
/// </summary>
public interface IMentionGrain : IGrainWithStringKey
{
    [OneWay]
    Task NoteCreated(InternalNote note);
}

/// <summary>
/// One timeline item: its event's cursor, id, type and time, who caused it (<see cref="Actor"/>) and the fields the
/// timeline shows for its type (<see cref="FieldsJson"/>, a JSON object; docs/contact-centre.md lists them).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ActivityItem(
    [property: Id(0)] long Cursor,
    [property: Id(1)] Ulid Id,
    [property: Id(2)] string Type,
    [property: Id(3)] DateTimeOffset Time,
    [property: Id(4)] Causation Actor,
    [property: Id(5)] string FieldsJson);

/// <summary>A page of the timeline; <see cref="Next"/> is the cursor to continue after (the last item's, or the asked one).</summary>
[GenerateSerializer, Immutable]
public sealed record ActivityPage(
    [property: Id(0)] ActivityItem[] Items,
    [property: Id(1)] long Next);

/// <summary>
/// Pushed to the connections of an agent named in a note (<c>{"type":"mention"}</c>, docs/protocol.md), wherever that
/// conversation is: the console shows a notice with a link to it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MentionEvent([property: Id(0)] InternalNote Note) : ChatEvent(Note.ConversationId);
