using System.Globalization;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Directory;

/// <summary>
/// The cluster-mode directory: table <c>kefu_conversation</c> (deploy/mysql/003-conversations.sql, with team and
/// priority from 004-contact-centre.sql, preview, last activity, unread and names from 005-conversation-list.sql, and
/// the rest of what the list shows from 008-directory-list.sql: tags, queue position, snooze, response and resolution
/// times, rating, read marks).
/// </summary>
public sealed class MySqlConversationDirectory(IOptions<MySqlMessageStoreOptions> options) : IConversationDirectory
{
    private const string Columns = """
        INSERT INTO kefu_conversation
            (tenant, conversation_id, inbox, visitor_id, visitor_name, status, assignee_id, agent_ids, last_seq, created_at, updated_at, team, priority,
             preview, last_activity_at, unread, assignee_name, queued_at,
             tags, queue_position, snoozed_until, first_response_at, resolved_at, csat_rating, csat_comment, csat_at, read_marks)
        VALUES
        """;

    private const string OnDuplicate = """

        ON DUPLICATE KEY UPDATE
            -- Message-derived columns before last_seq (assignments see the ones before them): a late write from an
            -- older view of the conversation never replaces a newer preview (or moves read marks back).
            preview = IF(VALUES(last_seq) >= last_seq, VALUES(preview), preview),
            last_activity_at = IF(VALUES(last_seq) >= last_seq, VALUES(last_activity_at), last_activity_at),
            unread = IF(VALUES(last_seq) >= last_seq, VALUES(unread), unread),
            read_marks = IF(VALUES(last_seq) >= last_seq, VALUES(read_marks), read_marks),
            visitor_name = VALUES(visitor_name), status = VALUES(status), assignee_id = VALUES(assignee_id),
            assignee_name = VALUES(assignee_name), queued_at = VALUES(queued_at),
            agent_ids = VALUES(agent_ids), last_seq = GREATEST(last_seq, VALUES(last_seq)), updated_at = VALUES(updated_at),
            team = VALUES(team), priority = VALUES(priority),
            tags = VALUES(tags), queue_position = VALUES(queue_position), snoozed_until = VALUES(snoozed_until),
            first_response_at = VALUES(first_response_at), resolved_at = VALUES(resolved_at),
            csat_rating = VALUES(csat_rating), csat_comment = VALUES(csat_comment), csat_at = VALUES(csat_at)
        """;

    /// <summary>MariaDB's deadlock error: a batch that lost a lock-order race with another silo's is simply run again.</summary>
    private const int Deadlock = 1213;

    private readonly string _connectionString = options.Value.ConnectionString;

    public ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default) =>
        UpsertManyAsync([summary], cancellationToken);

    /// <summary>
    /// One multi-row statement (one commit) for many conversations' rows: under load the directory sink hands over
    /// every row that is due at once, so a busy silo writes a few statements a second instead of one per conversation.
    /// Rows go in key order, so two silos' batches take their row locks in the same order.
    /// </summary>
    public async ValueTask UpsertManyAsync(IReadOnlyList<ConversationSummary> summaries, CancellationToken cancellationToken = default)
    {
        if (summaries.Count == 0)
        {
            return;
        }

        var rows = summaries
            .Select(s => (Summary: s, Id: Ulid.Parse(s.ConversationId).ToByteArray()))
            .OrderBy(r => r.Summary.Tenant, StringComparer.Ordinal)
            .ThenBy(r => r.Id, ByteOrder.Instance)
            .ToArray();
        await using var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand { Connection = connection };
        var sql = new StringBuilder(Columns, Columns.Length + OnDuplicate.Length + (rows.Length * 260));
        for (var i = 0; i < rows.Length; i++)
        {
            AddRow(sql, command.Parameters, i, rows[i].Summary, rows[i].Id);
        }

        command.CommandText = sql.Append(OnDuplicate).ToString();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (MySqlException ex) when (ex.Number == Deadlock && attempt < 3)
            {
                // Rolled back whole: nothing of it landed, so running it again is safe.
            }
        }
    }

    private static void AddRow(StringBuilder sql, MySqlParameterCollection p, int i, ConversationSummary summary, byte[] id)
    {
        sql.Append(i == 0 ? "\n    (" : ",\n    (")
            .Append(CultureInfo.InvariantCulture, $"@t{i}, @i{i}, @ib{i}, @v{i}, @vn{i}, @s{i}, @a{i}, @ag{i}, @ls{i}, @c{i}, UTC_TIMESTAMP(6), @tm{i}, @p{i}, ")
            .Append(CultureInfo.InvariantCulture, $"@pv{i}, @la{i}, @u{i}, @an{i}, @q{i}, @tg{i}, @qp{i}, @sn{i}, @fr{i}, @r{i}, @cr{i}, @cc{i}, @ca{i}, @rm{i})");
        p.AddWithValue($"@t{i}", summary.Tenant);
        p.AddWithValue($"@i{i}", id);
        p.AddWithValue($"@ib{i}", summary.Inbox);
        p.AddWithValue($"@v{i}", summary.VisitorId);
        p.AddWithValue($"@vn{i}", summary.VisitorName);
        p.AddWithValue($"@s{i}", summary.Status);
        p.AddWithValue($"@a{i}", summary.AssigneeId);
        p.AddWithValue($"@ag{i}", string.Join(',', summary.AgentIds));
        p.AddWithValue($"@ls{i}", summary.LastSeq);
        p.AddWithValue($"@c{i}", summary.CreatedAt.UtcDateTime);
        p.AddWithValue($"@tm{i}", summary.Team);
        p.AddWithValue($"@p{i}", summary.Priority);
        p.AddWithValue($"@pv{i}", summary.Preview);
        p.AddWithValue($"@la{i}", summary.ActivityAt.UtcDateTime);
        p.AddWithValue($"@u{i}", summary.Unread);
        p.AddWithValue($"@an{i}", Truncate(summary.AssigneeName, 255));
        p.AddWithValue($"@q{i}", summary.QueuedAt?.UtcDateTime);
        p.AddWithValue($"@tg{i}", summary.Tags is { Length: > 0 } tags ? JsonSerializer.Serialize(tags) : null);
        p.AddWithValue($"@qp{i}", summary.QueuePosition);
        p.AddWithValue($"@sn{i}", summary.SnoozedUntil?.UtcDateTime);
        p.AddWithValue($"@fr{i}", summary.FirstResponseAt?.UtcDateTime);
        p.AddWithValue($"@r{i}", summary.ResolvedAt?.UtcDateTime);
        p.AddWithValue($"@cr{i}", summary.Csat?.Rating);
        p.AddWithValue($"@cc{i}", Truncate(summary.Csat?.Comment, 1000));
        p.AddWithValue($"@ca{i}", summary.Csat?.Ts.UtcDateTime);
        p.AddWithValue($"@rm{i}", summary.ReadMarks is { Count: > 0 } marks ? JsonSerializer.Serialize(marks) : null);
    }

    /// <summary>Binary conversation ids in the table's (memcmp) order.</summary>
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }

    public async ValueTask<bool> ErasePersonalAsync(string tenant, string conversationId, CancellationToken cancellationToken = default)
    {
        if (!Ulid.TryParse(conversationId, out var id))
        {
            return false;
        }

        await using var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "UPDATE kefu_conversation SET visitor_name = NULL, preview = NULL, csat_comment = NULL " +
            "WHERE tenant = @tenant AND conversation_id = @id AND (visitor_name IS NOT NULL OR preview IS NOT NULL OR csat_comment IS NOT NULL)", connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@id", id.ToByteArray());
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async ValueTask<IReadOnlyList<ConversationSummary>> ListAsync(string tenant, ConversationQuery query, CancellationToken cancellationToken = default)
    {
        // Agent ids are [a-z0-9._-], so a comma-separated list and FIND_IN_SET are exact.
        // Two ordered, limited reads instead of one ORDER BY over an expression: each can walk an index in order and
        // stop at the limit (queued ones are few; the others follow ix_kefu_conversation_activity), where one sort
        // by "queued first, then activity" would read and sort every matching row of the tenant.
        var filters = $"""
            WHERE tenant = @tenant
              {(query.Status is null ? string.Empty : "AND status = @status")}
              {(query.AssigneeId is null ? string.Empty : "AND assignee_id = @assignee")}
              {(query.UnassignedOnly ? "AND assignee_id IS NULL" : string.Empty)}
              {(query.Team is null ? string.Empty : "AND team = @team")}
              {(query.Inbox is null ? string.Empty : "AND inbox = @inbox")}
              {(query.IsAdmin ? string.Empty : "AND (assignee_id IS NULL OR assignee_id = @agent OR FIND_IN_SET(@agent, agent_ids) > 0)")}
            """;
        const string Columns = """
            SELECT conversation_id, inbox, visitor_id, visitor_name, status, assignee_id, agent_ids, last_seq, created_at, team, priority,
                   preview, last_activity_at, unread, assignee_name, queued_at,
                   tags, queue_position, snoozed_until, first_response_at, resolved_at, csat_rating, csat_comment, csat_at, read_marks
            FROM kefu_conversation
            """;
        var sql = $"""
            {Columns}
            {filters} AND status = 'queued'
            ORDER BY COALESCE(queued_at, created_at), last_activity_at DESC, conversation_id DESC
            LIMIT @limit;
            {Columns}
            {filters} AND status <> 'queued'
            ORDER BY last_activity_at DESC, conversation_id DESC
            LIMIT @limit;
            """;
        await using var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@status", query.Status);
        command.Parameters.AddWithValue("@agent", query.AgentId);
        command.Parameters.AddWithValue("@assignee", query.AssigneeId);
        command.Parameters.AddWithValue("@team", query.Team);
        command.Parameters.AddWithValue("@inbox", query.Inbox);
        var limit = Math.Max(0, query.Limit);
        command.Parameters.AddWithValue("@limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<ConversationSummary>();
        do
        {
            while (result.Count < limit && await reader.ReadAsync(cancellationToken))
            {
                result.Add(Read(reader, tenant));
            }
        }
        while (await reader.NextResultAsync(cancellationToken));

        return result;
    }

    private static ConversationSummary Read(MySqlDataReader reader, string tenant)
    {
        var agents = reader.GetString(6);
        return new ConversationSummary(
            new Ulid(reader.GetFieldValue<byte[]>(0)).ToString(),
            tenant,
            reader.GetString(1),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            reader.GetInt64(7),
            Utc(reader.GetDateTime(8)),
            agents.Length == 0 ? [] : agents.Split(','),
            Team: reader.IsDBNull(9) ? null : reader.GetString(9),
            Priority: reader.GetString(10),
            Preview: reader.IsDBNull(11) ? null : reader.GetString(11),
            LastActivityAt: reader.IsDBNull(12) ? null : Utc(reader.GetDateTime(12)),
            Unread: reader.GetInt32(13),
            AssigneeName: reader.IsDBNull(14) ? null : reader.GetString(14),
            QueuedAt: reader.IsDBNull(15) ? null : Utc(reader.GetDateTime(15)),
            Tags: reader.IsDBNull(16) ? [] : JsonSerializer.Deserialize<string[]>(reader.GetString(16)) ?? [],
            QueuePosition: reader.IsDBNull(17) ? null : reader.GetInt32(17),
            SnoozedUntil: UtcOrNull(reader, 18),
            FirstResponseAt: UtcOrNull(reader, 19),
            ResolvedAt: UtcOrNull(reader, 20),
            Csat: reader.IsDBNull(21) ? null : new CsatRating(reader.GetInt32(21), reader.IsDBNull(22) ? null : reader.GetString(22), UtcOrNull(reader, 23) ?? default),
            ReadMarks: reader.IsDBNull(24)
                ? new Dictionary<string, long>(StringComparer.Ordinal)
                : new Dictionary<string, long>(JsonSerializer.Deserialize<Dictionary<string, long>>(reader.GetString(24)) ?? [], StringComparer.Ordinal));
    }

    private static DateTimeOffset? UtcOrNull(MySqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Utc(reader.GetDateTime(ordinal));

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static string? Truncate(string? value, int length) => value is { } v && v.Length > length ? v[..length] : value;
}
