using System.Globalization;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Search;

/// <summary>
/// The cluster-mode index: table <c>kefu_search_message</c> (deploy/mysql/014-search.sql) with an InnoDB FULLTEXT index
/// over the application's hashed tokens, joined with <c>kefu_conversation</c> for the directory's filters and the list's
/// visibility rule. In the message store's database.
/// </summary>
public sealed class MySqlSearchIndex(IOptions<MySqlMessageStoreOptions> options) : ISearchIndex
{
    /// <summary>Rows per INSERT: a few hundred keeps a statement far below max_allowed_packet (a row is at most ~10 KiB of tokens and excerpt).</summary>
    private const int InsertChunk = 200;

    private const string HitColumns = "s.conversation_id, s.kind, s.seq, s.created_at, s.sender_role, s.excerpt";

    private readonly string _connectionString = options.Value.ConnectionString;

    public async ValueTask AddAsync(IReadOnlyList<SearchDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0)
        {
            return;
        }

        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken);
        foreach (var chunk in documents.Chunk(InsertChunk))
        {
            // IGNORE: a document indexed before (the indexer read a page again after a crash) stays as it is.
            var sql = new StringBuilder("INSERT IGNORE INTO kefu_search_message (tenant, conversation_id, kind, seq, created_at, sender_role, excerpt, tokens) VALUES ");
            await using var command = new MySqlCommand { Connection = connection };
            for (var i = 0; i < chunk.Length; i++)
            {
                var d = chunk[i];
                sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(@t{i},@c{i},@k{i},@s{i},@a{i},@r{i},@e{i},@w{i})");
                command.Parameters.AddWithValue($"@t{i}", d.Tenant);
                command.Parameters.AddWithValue($"@c{i}", Ulid.Parse(d.ConversationId).ToByteArray());
                command.Parameters.AddWithValue($"@k{i}", KindCode(d.Kind));
                command.Parameters.AddWithValue($"@s{i}", d.Seq);
                command.Parameters.AddWithValue($"@a{i}", d.CreatedAt.UtcDateTime);
                command.Parameters.AddWithValue($"@r{i}", d.SenderRole);
                command.Parameters.AddWithValue($"@e{i}", SearchText.Excerpt(d.Text));
                command.Parameters.AddWithValue($"@w{i}", SearchTokenizer.IndexWords(d.Tenant, d.Text) + " "
                    + string.Join(' ', SearchTokenizer.BucketTokens(d.CreatedAt).Select(b => SearchTokenizer.Hash(d.Tenant, b))));
            }

            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async ValueTask<SearchPage> SearchAsync(string tenant, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var words = SearchTokenizer.QueryTokens(query.Text);
        if (words.Count == 0 || query.ConversationIds is { Length: 0 } || query.Inboxes is { Length: 0 })
        {
            return new SearchPage([], null);
        }

        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken);

        // 1. The page: matching conversations by their newest matching row. The full-text index finds the rows (each
        //    token's posting list, intersected), the join keeps those the caller may see, and grouping orders them. The
        //    cost is per matching row, so the newest time buckets are asked first (windows from a start until now: a
        //    conversation with a hit in the window has its newest hit there too, so the order is exact) and the window
        //    widens only while it holds less than a page.
        var page = new List<(byte[] Id, DateTime LastHit)>();
        foreach (var (start, buckets) in Windows(DateTime.UtcNow))
        {
            if (start is { } s && ((query.After is { } a && a.LastHitAt.UtcDateTime < s) || (query.To is { } to && to.UtcDateTime <= s)))
            {
                continue; // nothing in this window can come after the cursor or before the end
            }

            page.Clear();
            await using (var command = new MySqlCommand { Connection = connection })
            {
                var filters = Filters(command, tenant, query, words, conversationLevel: true, buckets);
                command.CommandText = $"""
                    SELECT s.conversation_id, MAX(s.created_at) AS last_hit
                    FROM kefu_search_message s
                    JOIN kefu_conversation c ON c.tenant = s.tenant AND c.conversation_id = s.conversation_id
                    WHERE {filters}
                    GROUP BY s.conversation_id
                    {(query.After is null ? "" : "HAVING last_hit < @afterAt OR (last_hit = @afterAt AND s.conversation_id < @afterId)")}
                    ORDER BY last_hit DESC, s.conversation_id DESC
                    LIMIT @limit
                    """;
                if (query.After is { } after)
                {
                    command.Parameters.AddWithValue("@afterAt", after.LastHitAt.UtcDateTime);
                    command.Parameters.AddWithValue("@afterId", Ulid.Parse(after.ConversationId).ToByteArray());
                }

                command.Parameters.AddWithValue("@limit", query.Limit + 1);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    page.Add((reader.GetFieldValue<byte[]>(0), reader.GetDateTime(1)));
                }
            }

            if (page.Count > query.Limit)
            {
                break;
            }
        }

        var more = page.Count > query.Limit;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        if (page.Count == 0)
        {
            return new SearchPage([], null);
        }

        // 2. The page's conversations and their newest three matching rows each.
        var hits = new Dictionary<string, List<SearchHit>>(StringComparer.Ordinal);
        var conversations = new Dictionary<string, SearchResult>(StringComparer.Ordinal);
        await using (var command = new MySqlCommand { Connection = connection })
        {
            // No MATCH here: the full-text index would read every row of a common word again. The page's conversations
            // are few and their rows are found by the primary key; the tokens are checked as words of the column.
            var filters = new StringBuilder("s.tenant = @tenant");
            command.Parameters.AddWithValue("@tenant", tenant);
            for (var i = 0; i < words.Count; i++)
            {
                filters.Append(CultureInfo.InvariantCulture, $" AND INSTR(CONCAT(' ', s.tokens, ' '), @w{i}) > 0");
                command.Parameters.AddWithValue($"@w{i}", " " + SearchTokenizer.Hash(tenant, words[i]) + " ");
            }

            filters.Append(query.IncludeNotes ? "" : " AND s.kind = 0")
                .Append(query.From is null ? "" : " AND s.created_at >= @from")
                .Append(query.To is null ? "" : " AND s.created_at < @to");
            command.Parameters.AddWithValue("@from", query.From?.UtcDateTime);
            command.Parameters.AddWithValue("@to", query.To?.UtcDateTime);
            var ids = string.Join(',', page.Select((_, i) => $"@p{i}"));
            for (var i = 0; i < page.Count; i++)
            {
                command.Parameters.AddWithValue($"@p{i}", page[i].Id);
            }

            command.CommandText = $"""
                SELECT h.conversation_id, h.kind, h.seq, h.created_at, h.sender_role, h.excerpt,
                       c.inbox, c.status, c.visitor_id, c.visitor_name, c.assignee_id, c.assignee_name, c.tags, c.created_at
                FROM (SELECT {HitColumns}, ROW_NUMBER() OVER (PARTITION BY s.conversation_id ORDER BY s.created_at DESC, s.seq DESC) AS n
                      FROM kefu_search_message s
                      WHERE {filters} AND s.conversation_id IN ({ids})) h
                JOIN kefu_conversation c ON c.tenant = @tenant AND c.conversation_id = h.conversation_id
                WHERE h.n <= 3
                ORDER BY h.conversation_id, h.n
                """;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = new Ulid(reader.GetFieldValue<byte[]>(0)).ToString();
                if (!hits.TryGetValue(id, out var list))
                {
                    hits[id] = list = [];
                    conversations[id] = new SearchResult(id, reader.GetString(6), reader.GetString(7), reader.GetString(8),
                        reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10),
                        reader.IsDBNull(11) ? null : reader.GetString(11),
                        reader.IsDBNull(12) ? [] : JsonSerializer.Deserialize<string[]>(reader.GetString(12)) ?? [],
                        Utc(reader.GetDateTime(13)), default, []);
                }

                list.Add(new SearchHit(KindName(reader.GetByte(1)), reader.GetInt64(2), reader.GetString(4), Utc(reader.GetDateTime(3)),
                    SearchText.Snippet(reader.GetString(5), words)));
            }
        }

        var results = page
            .Select(p => (Id: new Ulid(p.Id).ToString(), p.LastHit))
            .Where(p => conversations.ContainsKey(p.Id)) // erased between the two reads
            .Select(p => conversations[p.Id] with { LastHitAt = Utc(p.LastHit), Hits = [.. hits[p.Id]] })
            .ToArray();
        var next = more && results.Length > 0 ? new SearchPosition(results[^1].LastHitAt, results[^1].ConversationId) : null;
        return new SearchPage(results, next);
    }

    public async ValueTask<long> DeleteConversationsAsync(string tenant, IReadOnlyCollection<string> conversationIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversationIds);
        long deleted = 0;
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken);
        foreach (var chunk in conversationIds.Chunk(100))
        {
            await using var command = new MySqlCommand { Connection = connection };
            command.Parameters.AddWithValue("@tenant", tenant);
            for (var i = 0; i < chunk.Length; i++)
            {
                command.Parameters.AddWithValue($"@c{i}", Ulid.Parse(chunk[i]).ToByteArray());
            }

            command.CommandText = $"DELETE FROM kefu_search_message WHERE tenant = @tenant AND conversation_id IN ({string.Join(',', chunk.Select((_, i) => $"@c{i}"))})";
            deleted += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return deleted;
    }

    public async ValueTask<long> DeleteAsync(string tenant, string conversationId, string kind, IReadOnlyCollection<long> seqs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(seqs);
        long deleted = 0;
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken);
        foreach (var chunk in seqs.Chunk(500))
        {
            await using var command = new MySqlCommand { Connection = connection };
            command.Parameters.AddWithValue("@tenant", tenant);
            command.Parameters.AddWithValue("@conversation", Ulid.Parse(conversationId).ToByteArray());
            command.Parameters.AddWithValue("@kind", KindCode(kind));
            command.CommandText = "DELETE FROM kefu_search_message WHERE tenant = @tenant AND conversation_id = @conversation AND kind = @kind AND seq IN ("
                + string.Join(',', chunk.Select(seq => seq.ToString(CultureInfo.InvariantCulture))) + ")";
            deleted += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return deleted;
    }

    public async ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default)
    {
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken);
        await using var command = new MySqlCommand(
            "DELETE FROM kefu_search_message WHERE tenant = @tenant AND created_at < @before ORDER BY created_at LIMIT @limit", connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@before", before.UtcDateTime);
        command.Parameters.AddWithValue("@limit", Math.Max(0, limit));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The WHERE clause of a search (its parameters added): the tokens, the tenant and the row filters, and with
    /// <paramref name="conversationLevel"/> the directory's (alias <c>c</c>) too.
    /// </summary>
    private static string Filters(MySqlCommand command, string tenant, SearchQuery query, IReadOnlyList<string> words, bool conversationLevel, string[]? buckets)
    {
        var where = new StringBuilder("MATCH(s.tokens) AGAINST(@match IN BOOLEAN MODE) AND s.tenant = @tenant");
        var match = string.Join(' ', words.Select(w => "+" + SearchTokenizer.Hash(tenant, w)));
        if (buckets is not null)
        {
            match += " +(" + string.Join(' ', buckets.Select(b => SearchTokenizer.Hash(tenant, b))) + ")"; // in any of the window's buckets
        }

        command.Parameters.AddWithValue("@match", match);
        command.Parameters.AddWithValue("@tenant", tenant);
        if (!query.IncludeNotes)
        {
            where.Append(" AND s.kind = 0");
        }

        if (query.From is { } from)
        {
            where.Append(" AND s.created_at >= @from");
            command.Parameters.AddWithValue("@from", from.UtcDateTime);
        }

        if (query.To is { } to)
        {
            where.Append(" AND s.created_at < @to");
            command.Parameters.AddWithValue("@to", to.UtcDateTime);
        }

        if (query.ConversationIds is { } only)
        {
            where.Append(" AND s.conversation_id IN (").AppendJoin(',', only.Select((_, i) => $"@only{i}")).Append(')');
            for (var i = 0; i < only.Length; i++)
            {
                command.Parameters.AddWithValue($"@only{i}", Ulid.Parse(only[i]).ToByteArray());
            }
        }

        if (!conversationLevel)
        {
            return where.ToString();
        }

        if (query.Status is { } status)
        {
            where.Append(" AND c.status = @status");
            command.Parameters.AddWithValue("@status", status);
        }

        if (query.Inbox is { } inbox)
        {
            where.Append(" AND c.inbox = @inbox");
            command.Parameters.AddWithValue("@inbox", inbox);
        }

        if (query.Inboxes is { } inboxes)
        {
            where.Append(" AND c.inbox IN (").AppendJoin(',', inboxes.Select((_, i) => $"@inbox{i}")).Append(')');
            for (var i = 0; i < inboxes.Length; i++)
            {
                command.Parameters.AddWithValue($"@inbox{i}", inboxes[i]);
            }
        }

        if (query.Tag is { } tag)
        {
            where.Append(" AND JSON_CONTAINS(c.tags, JSON_QUOTE(@tag))");
            command.Parameters.AddWithValue("@tag", tag);
        }

        if (!query.IsAdmin)
        {
            // The conversation list's rule (agent ids are [a-z0-9._-], so FIND_IN_SET is exact).
            where.Append(" AND (c.assignee_id IS NULL OR c.assignee_id = @agent OR FIND_IN_SET(@agent, c.agent_ids) > 0)");
            command.Parameters.AddWithValue("@agent", query.AgentId);
        }

        return where.ToString();
    }

    /// <summary>
    /// The windows a search tries in turn, each from its start until now (and a day beyond, for clocks a little ahead):
    /// two days, eight days, then everything (no bucket term). Only days: a bucket term costs the full-text index its
    /// whole posting list, and a month's list is as long as a common word's (a rare word would pay it in every window).
    /// </summary>
    private static IEnumerable<(DateTime? Start, string[]? Buckets)> Windows(DateTime now)
    {
        var today = now.Date;
        foreach (var days in new[] { 2, 8 })
        {
            yield return (today.AddDays(1 - days), [.. Enumerable.Range(-1, days + 1).Select(d => SearchTokenizer.DayBucket(today.AddDays(-d)))]);
        }

        yield return (null, null);
    }

    private static byte KindCode(string kind) => kind == SearchKinds.Note ? (byte)1 : (byte)0;

    private static string KindName(byte code) => code == 1 ? SearchKinds.Note : SearchKinds.Message;

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
