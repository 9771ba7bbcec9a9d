using System.Text;
using MySqlConnector;

namespace Kefu.Grains.Storage;

/// <summary>Retention (issue #20, deploy/mysql/015): a tenant's old messages, deleted a small chunk at a time.</summary>
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

        // Each conversation's newest seq, read without locking. Only seqs below it are deleted, and it is emptied rather
        // than deleted: should a message be appended meanwhile, the true newest is only newer, so the anchor is never
        // lost (the emptied row then simply stays as an empty, pruned message).
        var newest = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var last = new MySqlCommand { Connection = connection })
        {
            var sqlLast = new StringBuilder("SELECT conversation_id, MAX(seq) FROM kefu_message WHERE tenant = @tenant AND conversation_id IN (");
            last.Parameters.AddWithValue("@tenant", tenant);
            for (var i = 0; i < byConversation.Count; i++)
            {
                sqlLast.Append(i == 0 ? "@c" : ",@c").Append(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                last.Parameters.AddWithValue("@c" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), byConversation[i].Conversation);
            }

            last.CommandText = sqlLast.Append(") GROUP BY conversation_id").ToString();
            await using var reader = await last.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                newest[Convert.ToHexString(reader.GetFieldValue<byte[]>(0))] = reader.GetInt64(1);
            }
        }

        // One short transaction by primary key: row locks on exactly these rows, no range of the index.
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
            var anchor = newest.GetValueOrDefault(Convert.ToHexString(conversation), long.MaxValue);
            var c = P(conversation);
            var delete = seqs.Where(s => s < anchor).ToList();
            if (delete.Count > 0)
            {
                sql.Append("DELETE FROM kefu_message WHERE tenant = ").Append(t).Append(" AND conversation_id = ").Append(c)
                    .Append(" AND seq IN (").AppendJoin(',', delete.Select(s => P(s))).Append(");");
            }

            if (seqs.Contains(anchor))
            {
                sql.Append("UPDATE kefu_message SET pruned = 1, body = '', body_size = 0, body_codec = 0, content_kind = 0, content = NULL, sender_name = NULL WHERE tenant = ")
                    .Append(t).Append(" AND conversation_id = ").Append(c).Append(" AND seq = ").Append(P(anchor)).Append(" AND pruned = 0;");
            }
        }

        command.CommandText = sql.Append("COMMIT;").ToString();
        try
        {
            // The affected rows of every statement, summed: messages deleted plus anchors emptied.
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await Events.MySqlEventLog.RollBackQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }
    }
}
