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
    private const string Upsert = """
        INSERT INTO kefu_conversation
            (tenant, conversation_id, inbox, visitor_id, visitor_name, status, assignee_id, agent_ids, last_seq, created_at, updated_at, team, priority,
             preview, last_activity_at, unread, assignee_name, queued_at,
             tags, queue_position, snoozed_until, first_response_at, resolved_at, csat_rating, csat_comment, csat_at, read_marks)
        VALUES (@tenant, @id, @inbox, @visitor, @visitorName, @status, @assignee, @agents, @lastSeq, @createdAt, UTC_TIMESTAMP(6), @team, @priority,
                @preview, @lastActivityAt, @unread, @assigneeName, @queuedAt,
                @tags, @queuePosition, @snoozedUntil, @firstResponseAt, @resolvedAt, @csatRating, @csatComment, @csatAt, @readMarks)
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

    private readonly string _connectionString = options.Value.ConnectionString;

    public async ValueTask UpsertAsync(ConversationSummary summary, CancellationToken cancellationToken = default)
    {
        await using var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(Upsert, connection);
        command.Parameters.AddWithValue("@tenant", summary.Tenant);
        command.Parameters.AddWithValue("@id", Ulid.Parse(summary.ConversationId).ToByteArray());
        command.Parameters.AddWithValue("@inbox", summary.Inbox);
        command.Parameters.AddWithValue("@visitor", summary.VisitorId);
        command.Parameters.AddWithValue("@visitorName", summary.VisitorName);
        command.Parameters.AddWithValue("@status", summary.Status);
        command.Parameters.AddWithValue("@assignee", summary.AssigneeId);
        command.Parameters.AddWithValue("@agents", string.Join(',', summary.AgentIds));
        command.Parameters.AddWithValue("@lastSeq", summary.LastSeq);
        command.Parameters.AddWithValue("@createdAt", summary.CreatedAt.UtcDateTime);
        command.Parameters.AddWithValue("@team", summary.Team);
        command.Parameters.AddWithValue("@priority", summary.Priority);
        command.Parameters.AddWithValue("@preview", summary.Preview);
        command.Parameters.AddWithValue("@lastActivityAt", summary.ActivityAt.UtcDateTime);
        command.Parameters.AddWithValue("@unread", summary.Unread);
        command.Parameters.AddWithValue("@assigneeName", Truncate(summary.AssigneeName, 255));
        command.Parameters.AddWithValue("@queuedAt", summary.QueuedAt?.UtcDateTime);
        command.Parameters.AddWithValue("@tags", summary.Tags is { Length: > 0 } tags ? JsonSerializer.Serialize(tags) : null);
        command.Parameters.AddWithValue("@queuePosition", summary.QueuePosition);
        command.Parameters.AddWithValue("@snoozedUntil", summary.SnoozedUntil?.UtcDateTime);
        command.Parameters.AddWithValue("@firstResponseAt", summary.FirstResponseAt?.UtcDateTime);
        command.Parameters.AddWithValue("@resolvedAt", summary.ResolvedAt?.UtcDateTime);
        command.Parameters.AddWithValue("@csatRating", summary.Csat?.Rating);
        command.Parameters.AddWithValue("@csatComment", Truncate(summary.Csat?.Comment, 1000));
        command.Parameters.AddWithValue("@csatAt", summary.Csat?.Ts.UtcDateTime);
        command.Parameters.AddWithValue("@readMarks", summary.ReadMarks is { Count: > 0 } marks ? JsonSerializer.Serialize(marks) : null);
        await command.ExecuteNonQueryAsync(cancellationToken);
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
