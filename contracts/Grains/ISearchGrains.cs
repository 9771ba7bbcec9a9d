namespace Kefu.Contracts.Grains;

// Conversation search (issue #20 item 3, docs/search.md): an index of message and note texts kept by a per-tenant
// indexer that reads the event log, and a stateless reader that answers the search API.

/// <summary>
/// Answers searches of a tenant's conversations: a stateless worker on the silos (like the directory's reader), so
/// gateways never talk to the database and no single grain sits between every console and the index. Key: the tenant.
/// </summary>
public interface ISearchGrain : IGrainWithStringKey
{
    Task<SearchPage> Search(SearchQuery query);
}

/// <summary>
/// Keeps a tenant's search index: reads <c>message.created</c> and <c>note.created</c> after a durable cursor and writes
/// their tokens. Started by the first such event a silo commits for the tenant, kept alive by a reminder. Key: the tenant.
/// </summary>
public interface ISearchIndexerGrain : IGrainWithStringKey
{
    /// <summary>Starts (or keeps) reading; idempotent.</summary>
    Task Start();

    /// <summary>Reads what is new now.</summary>
    Task Poke();

    Task<SearchIndexerStatus> GetStatus();
}

[GenerateSerializer, Immutable]
public sealed record SearchIndexerStatus(
    [property: Id(0)] long Cursor,
    [property: Id(1)] long Indexed);

/// <summary>
/// One search. <see cref="Text"/> is required (the API refuses an empty one); the other filters combine with AND.
/// Visibility follows the conversation list: a non-admin agent sees unassigned conversations, its own and those it
/// joined; <see cref="Inboxes"/> (a service key's restriction) limits to those inboxes; notes only with
/// <see cref="IncludeNotes"/> (people, never keys). <see cref="ConversationIds"/>: only these (a contact's).
/// <see cref="From"/> inclusive, <see cref="To"/> exclusive, on the message's time. Results are conversations by their
/// newest matching message, newest first; <see cref="After"/> continues after a page's last result.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SearchQuery(
    [property: Id(0)] string AgentId,
    [property: Id(1)] bool IsAdmin,
    [property: Id(2)] string Text,
    [property: Id(3)] int Limit,
    [property: Id(4)] string? Status = null,
    [property: Id(5)] string? Tag = null,
    [property: Id(6)] string? Inbox = null,
    [property: Id(7)] string[]? Inboxes = null,
    [property: Id(8)] string[]? ConversationIds = null,
    [property: Id(9)] DateTimeOffset? From = null,
    [property: Id(10)] DateTimeOffset? To = null,
    [property: Id(11)] bool IncludeNotes = false,
    [property: Id(12)] SearchPosition? After = null);

/// <summary>Where a page ended: the last result's newest matching time and conversation id.</summary>
[GenerateSerializer, Immutable]
public sealed record SearchPosition(
    [property: Id(0)] DateTimeOffset LastHitAt,
    [property: Id(1)] string ConversationId);

[GenerateSerializer, Immutable]
public sealed record SearchPage(
    [property: Id(0)] SearchResult[] Results,
    [property: Id(1)] SearchPosition? Next);

/// <summary>A matching conversation (as the directory holds it) and its newest matching messages or notes (at most three).</summary>
[GenerateSerializer, Immutable]
public sealed record SearchResult(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Inbox,
    [property: Id(2)] string Status,
    [property: Id(3)] string VisitorId,
    [property: Id(4)] string? VisitorName,
    [property: Id(5)] string? AssigneeId,
    [property: Id(6)] string? AssigneeName,
    [property: Id(7)] string[] Tags,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] DateTimeOffset LastHitAt,
    [property: Id(10)] SearchHit[] Hits);

/// <summary>One matching message (<see cref="Kind"/> <c>message</c>, <see cref="Seq"/> its seq) or note (<c>note</c>, the event's seq).</summary>
[GenerateSerializer, Immutable]
public sealed record SearchHit(
    [property: Id(0)] string Kind,
    [property: Id(1)] long Seq,
    [property: Id(2)] string SenderRole,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] string Snippet);
