using Kefu.Contracts.Grains;

namespace Kefu.Grains.Search;

/// <summary>One indexed text: a message (its seq) or an internal note (its event's seq) of a conversation.</summary>
public sealed record SearchDocument(
    string Tenant,
    string ConversationId,
    string Kind,
    long Seq,
    DateTimeOffset CreatedAt,
    string SenderRole,
    string Text);

public static class SearchKinds
{
    public const string Message = "message";
    public const string Note = "note";
}

/// <summary>
/// The search index (docs/search.md): one row per message or note with its hashed tokens
/// (<see cref="SearchTokenizer"/>), searched together with the conversation directory's status, tags, inbox and
/// visibility. MySQL table <c>kefu_search_message</c> in cluster mode, process memory when embedded.
/// </summary>
public interface ISearchIndex
{
    /// <summary>Adds the documents; one already indexed (same conversation, kind and seq) is left as it is.</summary>
    ValueTask AddAsync(IReadOnlyList<SearchDocument> documents, CancellationToken cancellationToken = default);

    /// <summary>
    /// One page of <paramref name="query"/>'s matching conversations, newest matching message first; the query must have
    /// tokens (<see cref="SearchTokenizer.QueryTokens"/>: the API refuses one without).
    /// </summary>
    ValueTask<SearchPage> SearchAsync(string tenant, SearchQuery query, CancellationToken cancellationToken = default);

    /// <summary>Deletes every row of these conversations (erasure); returns how many.</summary>
    ValueTask<long> DeleteConversationsAsync(string tenant, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes these documents of one conversation (the backfill's undo of messages that were erased or pruned while it
    /// indexed them); returns how many were there.
    /// </summary>
    ValueTask<long> DeleteAsync(string tenant, string conversationId, string kind, IReadOnlyCollection<long> seqs, CancellationToken cancellationToken = default);

    /// <summary>Deletes at most <paramref name="limit"/> rows written before <paramref name="before"/> (retention); returns how many.</summary>
    ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default);
}
