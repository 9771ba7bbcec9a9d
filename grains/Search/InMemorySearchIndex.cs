using System.Collections.Concurrent;
using Kefu.Contracts.Grains;
using Kefu.Grains.Directory;

namespace Kefu.Grains.Search;

/// <summary>
/// The embedded-mode index: an inverted index in process memory, in the same token space as the MySQL one (hashed
/// tokens per tenant), filtered by the in-memory conversation directory with the list's visibility rules.
/// </summary>
public sealed class InMemorySearchIndex(IConversationDirectory directory) : ISearchIndex
{
    private readonly ConcurrentDictionary<string, TenantIndex> _tenants = new(StringComparer.Ordinal);

    public ValueTask AddAsync(IReadOnlyList<SearchDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        foreach (var document in documents)
        {
            var index = _tenants.GetOrAdd(document.Tenant, static _ => new());
            var key = new DocumentKey(document.ConversationId, document.Kind, document.Seq);
            var tokens = SearchTokenizer.IndexTokens(document.Text).Select(t => SearchTokenizer.Hash(document.Tenant, t)).ToArray();
            lock (index)
            {
                if (!index.Documents.TryAdd(key, new Entry(document with { CreatedAt = SearchText.Micros(document.CreatedAt), Text = SearchText.Excerpt(document.Text) }, tokens)))
                {
                    continue;
                }

                foreach (var token in tokens)
                {
                    if (!index.Postings.TryGetValue(token, out var posting))
                    {
                        index.Postings[token] = posting = [];
                    }

                    posting.Add(key);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<SearchPage> SearchAsync(string tenant, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var words = SearchTokenizer.QueryTokens(query.Text);
        if (words.Count == 0 || !_tenants.TryGetValue(tenant, out var index))
        {
            return new SearchPage([], null);
        }

        var hashed = words.Select(w => SearchTokenizer.Hash(tenant, w)).ToArray();
        List<SearchDocument> hits;
        lock (index)
        {
            var postings = new List<HashSet<DocumentKey>>();
            foreach (var token in hashed)
            {
                if (!index.Postings.TryGetValue(token, out var posting))
                {
                    return new SearchPage([], null);
                }

                postings.Add(posting);
            }

            postings.Sort((a, b) => a.Count.CompareTo(b.Count));
            var only = query.ConversationIds?.ToHashSet(StringComparer.Ordinal);
            hits = [.. postings[0]
                .Where(key => postings.Skip(1).All(p => p.Contains(key)))
                .Select(key => index.Documents[key].Document)
                .Where(d => (query.IncludeNotes || d.Kind == SearchKinds.Message)
                            && (query.From is null || d.CreatedAt >= query.From)
                            && (query.To is null || d.CreatedAt < query.To)
                            && (only is null || only.Contains(d.ConversationId)))];
        }

        if (hits.Count == 0)
        {
            return new SearchPage([], null);
        }

        // The directory decides status, inbox and visibility exactly as the list does; tags and a key's inboxes here.
        var listed = await directory.ListAsync(tenant, new ConversationQuery(query.AgentId, query.IsAdmin, query.Status, int.MaxValue, Inbox: query.Inbox), cancellationToken);
        var conversations = listed
            .Where(c => (query.Tag is null || (c.Tags ?? []).Contains(query.Tag, StringComparer.Ordinal))
                        && (query.Inboxes is null || query.Inboxes.Contains(c.Inbox, StringComparer.Ordinal)))
            .ToDictionary(c => c.ConversationId, StringComparer.Ordinal);
        var page = hits
            .Where(d => conversations.ContainsKey(d.ConversationId))
            .GroupBy(d => d.ConversationId, StringComparer.Ordinal)
            .Select(g => (Id: g.Key, LastHitAt: g.Max(d => d.CreatedAt), Hits: g.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Seq).Take(3).ToArray()))
            .Where(r => SearchText.IsAfter(r.LastHitAt, r.Id, query.After))
            .OrderByDescending(r => r.LastHitAt)
            .ThenByDescending(r => r.Id, StringComparer.Ordinal)
            .Take(query.Limit + 1)
            .ToList();
        var results = page.Take(query.Limit).Select(r =>
        {
            var c = conversations[r.Id];
            return new SearchResult(c.ConversationId, c.Inbox, c.Status, c.VisitorId, c.VisitorName, c.AssigneeId, c.AssigneeName, c.Tags ?? [],
                c.CreatedAt, r.LastHitAt, [.. r.Hits.Select(d => new SearchHit(d.Kind, d.Seq, d.SenderRole, d.CreatedAt, SearchText.Snippet(d.Text, words)))]);
        }).ToArray();
        return new SearchPage(results, page.Count > query.Limit ? new SearchPosition(results[^1].LastHitAt, results[^1].ConversationId) : null);
    }

    public ValueTask<long> DeleteConversationsAsync(string tenant, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversationIds);
        var ids = conversationIds.ToHashSet(StringComparer.Ordinal);
        return ValueTask.FromResult((long)Remove(tenant, e => ids.Contains(e.Document.ConversationId), int.MaxValue));
    }

    public ValueTask<long> DeleteAsync(string tenant, string conversationId, string kind, IReadOnlyCollection<long> seqs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seqs);
        var keys = seqs.Select(seq => new DocumentKey(conversationId, kind, seq)).ToHashSet();
        return ValueTask.FromResult((long)Remove(tenant, e => keys.Contains(new DocumentKey(e.Document.ConversationId, e.Document.Kind, e.Document.Seq)), int.MaxValue));
    }

    public ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Remove(tenant, e => e.Document.CreatedAt < before, limit));

    private int Remove(string tenant, Func<Entry, bool> match, int limit)
    {
        if (!_tenants.TryGetValue(tenant, out var index))
        {
            return 0;
        }

        lock (index)
        {
            var gone = index.Documents.Where(kv => match(kv.Value)).Take(limit).ToList();
            foreach (var (key, entry) in gone)
            {
                index.Documents.Remove(key);
                foreach (var token in entry.Tokens)
                {
                    if (index.Postings.TryGetValue(token, out var posting) && posting.Remove(key) && posting.Count == 0)
                    {
                        index.Postings.Remove(token);
                    }
                }
            }

            return gone.Count;
        }
    }

    private readonly record struct DocumentKey(string ConversationId, string Kind, long Seq);

    private sealed record Entry(SearchDocument Document, string[] Tokens);

    private sealed class TenantIndex
    {
        public Dictionary<DocumentKey, Entry> Documents { get; } = [];

        public Dictionary<string, HashSet<DocumentKey>> Postings { get; } = new(StringComparer.Ordinal);
    }
}
