using System.Globalization;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Reports;

/// <summary>
/// Cluster mode's report rows (deploy/mysql/013-reports.sql). A projector page is one multi-row upsert; a report is one
/// command of six aggregate statements, each a range read of the clustered key (conversations created in the range) or
/// of the resolution index, grouped into at most days × groups or buckets × groups rows (docs/reports.md "Tables").
/// </summary>
public sealed class MySqlReportStore(IOptions<MySqlMessageStoreOptions> options) : IReportStore
{
    internal const string Table = "kefu_report_conversation";

    private const string Columns = "tenant, created_s, conversation_id, inbox, team, agent, status, first_response_ms, frt_bucket, resolved_s, resolution_ms, res_bucket, rating, event_seq";

    // event_seq is assigned last: MariaDB evaluates the assignments in order, so every IF above still compares with the
    // stored row's seq. ">=": replaying the same event writes the same values.
    private const string Upsert = " ON DUPLICATE KEY UPDATE "
        + "inbox = IF(VALUES(event_seq) >= event_seq, VALUES(inbox), inbox), "
        + "team = IF(VALUES(event_seq) >= event_seq, VALUES(team), team), "
        + "agent = IF(VALUES(event_seq) >= event_seq, VALUES(agent), agent), "
        + "status = IF(VALUES(event_seq) >= event_seq, VALUES(status), status), "
        + "first_response_ms = IF(VALUES(event_seq) >= event_seq, VALUES(first_response_ms), first_response_ms), "
        + "frt_bucket = IF(VALUES(event_seq) >= event_seq, VALUES(frt_bucket), frt_bucket), "
        + "resolved_s = IF(VALUES(event_seq) >= event_seq, VALUES(resolved_s), resolved_s), "
        + "resolution_ms = IF(VALUES(event_seq) >= event_seq, VALUES(resolution_ms), resolution_ms), "
        + "res_bucket = IF(VALUES(event_seq) >= event_seq, VALUES(res_bucket), res_bucket), "
        + "rating = IF(VALUES(event_seq) >= event_seq, VALUES(rating), rating), "
        + "event_seq = GREATEST(event_seq, VALUES(event_seq))";

    private const int MaxRowsPerStatement = 500;

    private readonly string _connectionString = options.Value.ConnectionString;

    public async ValueTask UpsertAsync(IReadOnlyList<ReportFact> facts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Count == 0)
        {
            return;
        }

        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        foreach (var chunk in facts.Chunk(MaxRowsPerStatement))
        {
            await using var command = new MySqlCommand { Connection = connection };
            var sql = new StringBuilder("INSERT INTO ").Append(Table).Append(" (").Append(Columns).Append(") VALUES ");
            for (var i = 0; i < chunk.Length; i++)
            {
                var f = chunk[i];
                sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                    $"(@t{i},@c{i},@id{i},@in{i},@tm{i},@ag{i},@st{i},@fr{i},@fb{i},@rs{i},@rm{i},@rb{i},@ra{i},@sq{i})");
                var p = command.Parameters;
                p.AddWithValue($"@t{i}", f.Tenant);
                p.AddWithValue($"@c{i}", f.CreatedS);
                p.AddWithValue($"@id{i}", f.ConversationId);
                p.AddWithValue($"@in{i}", f.Inbox);
                p.AddWithValue($"@tm{i}", f.Team);
                p.AddWithValue($"@ag{i}", f.Agent);
                p.AddWithValue($"@st{i}", f.Status);
                p.AddWithValue($"@fr{i}", (object?)f.FirstResponseMs ?? DBNull.Value);
                p.AddWithValue($"@fb{i}", (object?)f.FirstResponseBucket ?? DBNull.Value);
                p.AddWithValue($"@rs{i}", (object?)f.ResolvedS ?? DBNull.Value);
                p.AddWithValue($"@rm{i}", (object?)f.ResolutionMs ?? DBNull.Value);
                p.AddWithValue($"@rb{i}", (object?)f.ResolutionBucket ?? DBNull.Value);
                p.AddWithValue($"@ra{i}", (object?)f.Rating ?? DBNull.Value);
                p.AddWithValue($"@sq{i}", f.EventSeq);
            }

            command.CommandText = sql.Append(Upsert).ToString();
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<ReportAggregates> AggregateAsync(string tenant, ReportQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand { Connection = connection };
        var p = command.Parameters;
        p.AddWithValue("@tenant", tenant);
        p.AddWithValue("@from", query.From.ToUnixTimeSeconds());
        p.AddWithValue("@to", query.To.ToUnixTimeSeconds());
        p.AddWithValue("@off", query.OffsetMinutes * 60L);
        var filter = new StringBuilder();
        void Filter(string column, string? value)
        {
            if (value is not null)
            {
                filter.Append(CultureInfo.InvariantCulture, $" AND {column} = @f_{column}");
                p.AddWithValue("@f_" + column, value);
            }
        }

        Filter("agent", query.Agent);
        Filter("team", query.Team);
        Filter("inbox", query.Inbox);
        var group = query.GroupBy switch
        {
            ReportGroupBy.Agent => "agent",
            ReportGroupBy.Team => "team",
            ReportGroupBy.Inbox => "inbox",
            _ => "''",
        };
        var created = $"FROM {Table} WHERE tenant = @tenant AND created_s >= @from AND created_s < @to{filter}";
        command.CommandText = string.Join(";\n",
            $"SELECT (created_s + @off) DIV 86400, {group}, COUNT(*) {created} GROUP BY 1, 2 ORDER BY NULL",
            $"SELECT (resolved_s + @off) DIV 86400, {group}, COUNT(*) FROM {Table} WHERE tenant = @tenant AND resolved_s >= @from AND resolved_s < @to{filter} GROUP BY 1, 2 ORDER BY NULL",
            $"SELECT {group}, frt_bucket, COUNT(*) {created} AND frt_bucket IS NOT NULL GROUP BY 1, 2 ORDER BY NULL",
            $"SELECT {group}, res_bucket, COUNT(*) {created} AND res_bucket IS NOT NULL GROUP BY 1, 2 ORDER BY NULL",
            $"SELECT {group}, rating, COUNT(*) {created} AND rating IS NOT NULL GROUP BY 1, 2 ORDER BY NULL",
            // Open at the start: unresolved now, or resolved after the start. Both halves read the resolution index, so
            // they cost the open conversations and the range, not the tenant's history.
            $"SELECT g, SUM(n) FROM (SELECT {group} AS g, COUNT(*) AS n FROM {Table} WHERE tenant = @tenant AND resolved_s IS NULL AND created_s < @from{filter} GROUP BY 1"
            + $" UNION ALL SELECT {group}, COUNT(*) FROM {Table} WHERE tenant = @tenant AND resolved_s >= @from AND created_s < @from{filter} GROUP BY 1) o GROUP BY g ORDER BY NULL");

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var createdDays = new List<DayCount>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            createdDays.Add(new DayCount(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var resolvedDays = new List<DayCount>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            resolvedDays.Add(new DayCount(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        var buckets = new List<BucketCount>[3];
        for (var i = 0; i < 3; i++)
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            buckets[i] = [];
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                buckets[i].Add(new BucketCount(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)));
            }
        }

        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var open = new List<GroupCount>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            open.Add(new GroupCount(reader.GetString(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture)));
        }

        return new ReportAggregates(createdDays, resolvedDays, buckets[0], buckets[1], buckets[2], open);
    }
}
