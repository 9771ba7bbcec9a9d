using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Search;

/// <summary>
/// The tenant's conversation ids in id (creation) order, for the backfill's walk. The directory's list is ordered for
/// people (queued first, by activity) and has no keyset paging, so the walk asks the directory's table by its key.
/// </summary>
public interface ISearchBackfillSource
{
    /// <summary>At most <paramref name="limit"/> ids from <paramref name="from"/> on (inclusive; null: the first), ascending.</summary>
    ValueTask<IReadOnlyList<string>> ConversationsFromAsync(string tenant, string? from, int limit, CancellationToken cancellationToken = default);
}

/// <summary>Embedded mode: the in-memory directory, whole (it is small enough to be in memory already).</summary>
public sealed class DirectorySearchBackfillSource(IConversationDirectory directory) : ISearchBackfillSource
{
    public async ValueTask<IReadOnlyList<string>> ConversationsFromAsync(string tenant, string? from, int limit, CancellationToken cancellationToken = default)
    {
        var all = await directory.ListAsync(tenant, new Contracts.Grains.ConversationQuery("search-backfill", IsAdmin: true, Status: null, int.MaxValue), cancellationToken);
        return [.. all.Select(c => c.ConversationId)
            .Where(id => from is null || string.CompareOrdinal(id, from) >= 0)
            .Order(StringComparer.Ordinal)
            .Take(limit)];
    }
}

/// <summary>Cluster mode: <c>kefu_conversation</c> by its primary key (tenant, conversation_id), a range read per page.</summary>
public sealed class MySqlSearchBackfillSource(IOptions<MySqlMessageStoreOptions> options) : ISearchBackfillSource
{
    private readonly string _connectionString = options.Value.ConnectionString;

    public async ValueTask<IReadOnlyList<string>> ConversationsFromAsync(string tenant, string? from, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT conversation_id FROM kefu_conversation WHERE tenant = @tenant AND conversation_id >= @from ORDER BY conversation_id LIMIT @limit", connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@from", from is null ? new byte[16] : Ulid.Parse(from).ToByteArray());
        command.Parameters.AddWithValue("@limit", limit);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(new Ulid(reader.GetFieldValue<byte[]>(0)).ToString());
        }

        return ids;
    }
}

/// <summary>
/// Where a backfill stands: every conversation before <see cref="ConversationId"/> is done, and its messages up to
/// <see cref="AfterSeq"/> (<see cref="long.MaxValue"/>: all of them). Null conversation: nothing done yet.
/// </summary>
public sealed record SearchBackfillPosition(string? ConversationId, long AfterSeq)
{
    public static readonly SearchBackfillPosition Start = new(null, 0);
}

/// <summary>What one step did and where the walk continues.</summary>
public sealed record SearchBackfillStep(SearchBackfillPosition Next, int Messages, int Indexed, int Conversations, bool Done);

/// <summary>
/// One step of a tenant's search backfill (docs/search.md "Backfill"): walks the conversations in id order and their
/// messages from the message store, a bounded number of messages per step, and adds them to the index as the live
/// indexer would have from their <c>message.created</c> events (the same document, so a message indexed by both is one
/// row). Messages never change once stored; they only go, by erasure or retention, and the store is read after the
/// index is written: a message that went meanwhile is taken out of the index again, so the backfill never brings back
/// what an erasure (which deletes the messages before the index rows) or the retention job removed.
/// </summary>
public sealed class SearchBackfill(ISearchBackfillSource conversations, IMessageStore messages, ISearchIndex index)
{
    /// <summary>Conversations listed per step: bounds a step over many conversations without messages.</summary>
    public const int ConversationsPerStep = 100;

    private static readonly Causation Cause = Causation.Of("search-backfill");

    public async Task<SearchBackfillStep> StepAsync(string tenant, SearchBackfillPosition position, int budget, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(position);
        ArgumentOutOfRangeException.ThrowIfLessThan(budget, 1);
        var ids = await conversations.ConversationsFromAsync(tenant, position.ConversationId, ConversationsPerStep, cancellationToken);
        var (read, indexed, finished) = (0, 0, 0);
        var next = position;
        foreach (var id in ids)
        {
            var after = id == position.ConversationId ? position.AfterSeq : 0;
            while (after != long.MaxValue)
            {
                var want = budget - read;
                var page = await messages.ReadAfterAsync(tenant, id, after, want, cancellationToken);
                if (page.Count > 0)
                {
                    indexed += await IndexAsync(tenant, id, after, page, cancellationToken);
                    read += page.Count;
                    after = page[^1].Seq;
                }

                if (page.Count < want)
                {
                    after = long.MaxValue; // the conversation is done
                    finished++;
                }

                next = new SearchBackfillPosition(id, after);
                if (read >= budget)
                {
                    return new SearchBackfillStep(next, read, indexed, finished, Done: false);
                }
            }
        }

        return new SearchBackfillStep(next, read, indexed, finished, Done: ids.Count < ConversationsPerStep);
    }

    /// <summary>The document the live indexer makes of the message's <c>message.created</c> event (null: no text to find).</summary>
    public static SearchDocument? Document(string tenant, string conversationId, ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var data = EventJson.Data(new MessageCreated(message));
        return SearchIndexerGrain.Document(new StoredEvent(0, message.MessageId, EventTypes.MessageCreated, tenant, conversationId, 0, message.Ts, Cause, data));
    }

    private async Task<int> IndexAsync(string tenant, string conversationId, long after, IReadOnlyList<ChatMessage> page, CancellationToken cancellationToken)
    {
        var documents = page.Select(m => Document(tenant, conversationId, m)).OfType<SearchDocument>().ToArray();
        if (documents.Length == 0)
        {
            return 0;
        }

        await index.AddAsync(documents, cancellationToken);

        // Read again after the write: a message erased or pruned since the first read (its index row already deleted, or
        // about to be) must not stay indexed by us. The same range: what is left of it comes first.
        var still = (await messages.ReadAfterAsync(tenant, conversationId, after, page.Count, cancellationToken)).Select(m => m.Seq).ToHashSet();
        var gone = documents.Where(d => !still.Contains(d.Seq)).Select(d => d.Seq).ToArray();
        if (gone.Length > 0)
        {
            await index.DeleteAsync(tenant, conversationId, SearchKinds.Message, gone, cancellationToken);
        }

        return documents.Length - gone.Length;
    }
}
