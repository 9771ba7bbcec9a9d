using System.Text;
using MySqlConnector;

namespace Kefu.Grains.Storage;

/// <summary>Retention (issue #20, deploy/mysql/016): a tenant's old messages, deleted a small chunk at a time.</summary>
public sealed partial class MySqlMessageStore
{
    /// <summary>
    /// Reads up to <paramref name="limit"/> keys of the tenant's messages older than <paramref name="before"/> through
    /// <c>ix_kefu_message_retention</c> with a plain, non-locking SELECT, then deletes exactly those rows by primary key
    /// in one short transaction: no range lock is held on the index, so appends never wait for the job. A conversation's
    /// newest message is emptied and marked <c>pruned</c> instead (<see cref="RetentionAnchor"/>).
    /// </summary>
    public async ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (limit <= 0)
        {
            return 0;
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var keys = new List<(byte[] Conversation, long Seq)>(limit);
        await using (var select = new MySqlCommand(
            "SELECT conversation_id, seq FROM kefu_message FORCE INDEX (ix_kefu_message_retention) " +
            "WHERE tenant = @tenant AND pruned = 0 AND created_at < @before LIMIT @limit", connection))
        {
            select.Parameters.AddWithValue("@tenant", tenant);
            select.Parameters.AddWithValue("@before", before.UtcDateTime);
            select.Parameters.AddWithValue("@limit", limit);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                keys.Add((reader.GetFieldValue<byte[]>(0), reader.GetInt64(1)));
            }
        }

        if (keys.Count == 0)
        {
            return 0;
        }

        var byConversation = keys.GroupBy(k => Convert.ToHexString(k.Conversation), StringComparer.Ordinal)
            .Select(g => (Conversation: g.First().Conversation, Seqs: g.Select(k => k.Seq).ToList()))
            .ToList();

        // One transaction per chunk: each conversation's newest seq is read under a row lock (FOR UPDATE on the
        // primary key's newest row), so an append that lands meanwhile makes that row an ordinary old message instead of
        // leaving a message deleted that was the anchor.
        var sql = new StringBuilder("START TRANSACTION;");
        await using var command = new MySqlCommand { Connection = connection };
        var n = 0;
        string P(object value)
        {
            var name = "@p" + n++.ToString(System.Globalization.CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue(name, value);
            return name;
        }

        var t = P(tenant);
        foreach (var (conversation, seqs) in byConversation)
        {
            var c = P(conversation);
            sql.Append("SET @last = NULL;SELECT seq INTO @last FROM kefu_message WHERE tenant = ").Append(t).Append(" AND conversation_id = ").Append(c)
                .Append(" ORDER BY seq DESC LIMIT 1 FOR UPDATE;");
            sql.Append("DELETE FROM kefu_message WHERE tenant = ").Append(t).Append(" AND conversation_id = ").Append(c)
                .Append(" AND seq < @last AND seq IN (").AppendJoin(',', seqs.Select(s => P(s))).Append(");");
            sql.Append("SET @deleted = @deleted + ROW_COUNT();");
            sql.Append("UPDATE kefu_message SET pruned = 1, body = '', body_size = 0, body_codec = 0, content_kind = 0, content = NULL, sender_name = NULL WHERE tenant = ")
                .Append(t).Append(" AND conversation_id = ").Append(c).Append(" AND seq = @last AND pruned = 0 AND seq IN (").AppendJoin(',', seqs.Select(s => P(s))).Append(");");
            sql.Append("SET @deleted = @deleted + ROW_COUNT();");
        }

        sql.Append("COMMIT;SELECT @deleted;");
        command.CommandText = "SET @deleted = 0;" + sql;
        try
        {
            var changed = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return Convert.ToInt32(changed, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch
        {
            await Events.MySqlEventLog.RollBackQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }
}
