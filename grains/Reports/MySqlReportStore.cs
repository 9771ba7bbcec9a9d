using System.Data;
using System.Globalization;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Reports;

/// <summary>
/// Cluster mode's report rows: the fact rows (deploy/mysql/013-reports.sql) and their rollup (016-report-rollups.sql).
/// A projector page is one transaction that locks the page's stored facts, merges the new ones in
/// (<see cref="ReportFactMerge"/>), writes the changed rows and adds old → new differences to the rollup counters
/// (<see cref="ReportRollup"/>). A report reads the rollup when its filter and grouping allow it, else six aggregate
/// statements over the facts (docs/reports.md "How a query is answered").
/// </summary>
public sealed class MySqlReportStore(IOptions<MySqlMessageStoreOptions> options) : IReportStore
{
    internal const string Table = "kefu_report_conversation";

    internal const string RollupTable = "kefu_report_rollup";

    private const string Columns = "tenant, created_s, conversation_id, inbox, team, agent, status, first_response_ms, frt_bucket, resolved_s, resolution_ms, res_bucket, rating, event_seq";

    // The whole row is computed in the transaction (ReportFactMerge), so the upsert simply overwrites it.
    private const string Overwrite = " ON DUPLICATE KEY UPDATE inbox = VALUES(inbox), team = VALUES(team), agent = VALUES(agent), "
        + "status = VALUES(status), first_response_ms = VALUES(first_response_ms), frt_bucket = VALUES(frt_bucket), "
        + "resolved_s = VALUES(resolved_s), resolution_ms = VALUES(resolution_ms), res_bucket = VALUES(res_bucket), "
        + "rating = VALUES(rating), event_seq = VALUES(event_seq)";

    private const int MaxRowsPerStatement = 500;

    private const int MaxRollupRowsPerStatement = 2_000;

    private readonly string _connectionString = options.Value.ConnectionString;

    public async ValueTask UpsertAsync(IReadOnlyList<ReportFact> facts, IReadOnlyList<FirstResponse>? firstResponses = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        firstResponses ??= [];
        if (facts.Count == 0 && firstResponses.Count == 0)
        {
            return;
        }

        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        foreach (var tenant in facts.Select(f => f.Tenant).Concat(firstResponses.Select(r => r.Tenant)).Distinct(StringComparer.Ordinal))
        {
            var tenantFacts = facts.Where(f => f.Tenant == tenant).ToList();
            var tenantResponses = firstResponses.Where(r => r.Tenant == tenant).ToList();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await WriteAsync(connection, tenant, tenantFacts, tenantResponses, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (MySqlException ex) when (attempt < 5 && ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout)
                {
                    // Two writers of the same new conversation (a second activation during a failover) both lock its
                    // missing row's gap and one is chosen as the deadlock victim: run it again, now reading the other's row.
                }
            }
        }
    }

    /// <summary>
    /// One tenant's page in one transaction. The stored facts are read FOR UPDATE, so a second writer of the same
    /// conversations waits and then computes its difference from this one's result: nothing is counted twice, and a
    /// replayed event, merging to the stored row, changes nothing.
    /// </summary>
    private static async Task WriteAsync(
        MySqlConnection connection, string tenant, List<ReportFact> facts, List<FirstResponse> responses, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        var ids = facts.Select(f => f.ConversationId).Concat(responses.Select(r => r.ConversationId)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var stored = new Dictionary<string, ReportFact>(StringComparer.Ordinal);
        foreach (var chunk in ids.Chunk(MaxRowsPerStatement))
        {
            await ReadForUpdateAsync(connection, transaction, tenant, chunk, stored, cancellationToken).ConfigureAwait(false);
        }

        var merged = new Dictionary<string, ReportFact>(stored, StringComparer.Ordinal);
        foreach (var fact in facts)
        {
            merged[fact.ConversationId] = ReportFactMerge.Merge(merged.GetValueOrDefault(fact.ConversationId), fact);
        }

        foreach (var response in responses)
        {
            if (merged.TryGetValue(response.ConversationId, out var row))
            {
                merged[response.ConversationId] = ReportFactMerge.Apply(row, response);
            }
        }

        var changed = new List<ReportFact>();
        var delta = new Dictionary<RollupKey, long>();
        foreach (var (id, row) in merged)
        {
            var before = stored.GetValueOrDefault(id);
            if (before is null || !SameRow(before, row))
            {
                changed.Add(row);
                ReportRollup.Add(delta, row, +1);
                ReportRollup.Add(delta, before, -1);
            }
        }

        foreach (var chunk in changed.Chunk(MaxRowsPerStatement))
        {
            await WriteFactsAsync(connection, transaction, chunk, cancellationToken).ConfigureAwait(false);
        }

        // In key order, so two transactions over different conversations never wait on each other's counters crosswise.
        var counters = delta.Where(d => d.Value != 0).OrderBy(d => d.Key.Dim).ThenBy(d => d.Key.Key, StringComparer.Ordinal)
            .ThenBy(d => d.Key.Level).ThenBy(d => d.Key.Metric).ThenBy(d => d.Key.PeriodS).ThenBy(d => d.Key.Bucket).ToList();
        foreach (var chunk in counters.Chunk(MaxRollupRowsPerStatement))
        {
            await AddCountersAsync(connection, transaction, tenant, chunk, cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes facts of conversations the store does not have yet, and their counters unless <paramref name="counters"/>
    /// is false, without reading or merging anything: for loading a new tenant in bulk (the benchmark), never for the projector.
    /// </summary>
    public async ValueTask BulkLoadAsync(IReadOnlyList<ReportFact> facts, bool counters = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        foreach (var tenant in facts.Select(f => f.Tenant).Distinct(StringComparer.Ordinal))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var delta = new Dictionary<RollupKey, long>();
            foreach (var chunk in facts.Where(f => f.Tenant == tenant).Chunk(MaxRowsPerStatement))
            {
                await WriteFactsAsync(connection, transaction, chunk, cancellationToken).ConfigureAwait(false);
                foreach (var fact in chunk.Where(_ => counters))
                {
                    ReportRollup.Add(delta, fact, +1);
                }
            }

            foreach (var chunk in delta.Chunk(MaxRollupRowsPerStatement))
            {
                await AddCountersAsync(connection, transaction, tenant, chunk, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The columns the table stores (seconds, not sub-seconds): equal rows need no write and no counter change.</summary>
    private static bool SameRow(ReportFact a, ReportFact b) =>
        a.CreatedS == b.CreatedS && a.Inbox == b.Inbox && a.Team == b.Team && a.Agent == b.Agent && a.Status == b.Status
        && a.FirstResponseMs == b.FirstResponseMs && a.ResolvedS == b.ResolvedS && a.ResolutionMs == b.ResolutionMs
        && a.Rating == b.Rating && a.EventSeq == b.EventSeq;

    private static async Task ReadForUpdateAsync(
        MySqlConnection connection, MySqlTransaction transaction, string tenant, string[] ids, Dictionary<string, ReportFact> into, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        command.Parameters.AddWithValue("@t", tenant);
        var list = new StringBuilder();
        for (var i = 0; i < ids.Length; i++)
        {
            list.Append(i == 0 ? "@i0" : string.Create(CultureInfo.InvariantCulture, $",@i{i}"));
            command.Parameters.AddWithValue(string.Create(CultureInfo.InvariantCulture, $"@i{i}"), ids[i]);
        }

        command.CommandText = $"SELECT conversation_id, created_s, inbox, team, agent, status, first_response_ms, resolved_s, resolution_ms, rating, event_seq "
            + $"FROM {Table} WHERE tenant = @t AND conversation_id IN ({list}) FOR UPDATE";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            long? Long(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
            var resolved = Long(7);
            into[reader.GetString(0)] = new ReportFact(
                tenant, reader.GetString(0), DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(1)), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), Long(6), resolved is { } r ? DateTimeOffset.FromUnixTimeSeconds(r) : null, Long(8),
                reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.GetInt64(10));
        }
    }

    private static async Task WriteFactsAsync(MySqlConnection connection, MySqlTransaction transaction, ReportFact[] chunk, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
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

        command.CommandText = sql.Append(Overwrite).ToString();
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds counter differences (<c>n = n + delta</c>); a counter back at 0 stays as a row of 0, which every read skips.</summary>
    private static async Task AddCountersAsync(
        MySqlConnection connection, MySqlTransaction? transaction, string tenant, IReadOnlyList<KeyValuePair<RollupKey, long>> chunk, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        command.Parameters.AddWithValue("@t", tenant);
        var sql = new StringBuilder("INSERT INTO ").Append(RollupTable).Append(" (tenant, dim, gkey, level, metric, period_s, bucket, n) VALUES ");
        for (var i = 0; i < chunk.Count; i++)
        {
            var (k, n) = (chunk[i].Key, chunk[i].Value);
            sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture,
                $"(@t,'{k.Dim}',@k{i},{k.Level},'{k.Metric}',{k.PeriodS},{k.Bucket},{n})"); // numbers and fixed letters: no user text inline
            command.Parameters.AddWithValue($"@k{i}", k.Key);
        }

        command.CommandText = sql.Append(" ON DUPLICATE KEY UPDATE n = n + VALUES(n)").ToString();
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<ReportAggregates> AggregateAsync(string tenant, ReportQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return ReportRollup.Plan(query) is { } plan
            ? AggregateRollupAsync(tenant, query, plan.Dim, plan.Key, cancellationToken)
            : AggregateFactsAsync(tenant, query, cancellationToken);
    }

    /// <summary>
    /// A report from the rollup. Per day: the hourly counters of the query's row set (the filter's key, else the
    /// dimension-less one). Per group: the range split into the fewest whole periods (<see cref="ReportRollup.Split"/>),
    /// one statement per level piece, summed here. Open at the start of the range, per group, is created before the start
    /// − resolved before the start: a conversation resolved before the start was created before it (a resolution never
    /// precedes its creation: the projector clamps it), so the difference counts exactly those created before the start
    /// and not resolved before it — unresolved, or resolved after the start: the definition. Those two counts are the
    /// history up to the start, a few top-level periods per key. All statements read one snapshot.
    /// </summary>
    private async ValueTask<ReportAggregates> AggregateRollupAsync(string tenant, ReportQuery query, char dim, string? key, CancellationToken cancellationToken)
    {
        long from = query.From.ToUnixTimeSeconds(), to = query.To.ToUnixTimeSeconds();
        await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        var p = command.Parameters;
        p.AddWithValue("@t", tenant);
        p.AddWithValue("@from", from);
        p.AddWithValue("@to", to);
        p.AddWithValue("@off", query.OffsetMinutes * 60L);
        var grouped = query.GroupBy != ReportGroupBy.None;

        string keys;
        if (key is not null)
        {
            p.AddWithValue("@k", key);
            keys = "gkey = @k";
        }
        else
        {
            // Grouped, no filter: the dimension's keys first, so every piece below is a few ranges per key of the
            // primary key (MariaDB has no skip scan over a leading column). One index dive per key: a DISTINCT (or a
            // recursive CTE of MIN()s) reads every counter of the dimension instead — seconds over a million conversations.
            var list = new List<string>();
            var last = p.AddWithValue("@last", "");
            command.CommandText = $"SELECT gkey FROM {RollupTable} WHERE tenant = @t AND dim = '{dim}' ORDER BY gkey LIMIT 1";
            while (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string next)
            {
                list.Add(next);
                last.Value = next;
                command.CommandText = $"SELECT gkey FROM {RollupTable} WHERE tenant = @t AND dim = '{dim}' AND gkey > @last ORDER BY gkey LIMIT 1";
            }

            if (list.Count == 0)
            {
                list.Add(""); // no rows yet: a valid statement that finds nothing
            }

            keys = "gkey IN (" + string.Join(",", list.Select((k, i) => "@g" + i.ToString(CultureInfo.InvariantCulture))) + ")";
            for (var i = 0; i < list.Count; i++)
            {
                p.AddWithValue("@g" + i.ToString(CultureInfo.InvariantCulture), list[i]);
            }
        }

        var dayRows = key is null ? "dim = 'n' AND gkey = ''" : $"dim = '{dim}' AND gkey = @k";
        var statements = new List<string>
        {
            $"SELECT (period_s + @off) DIV 86400, metric, SUM(n) FROM {RollupTable} WHERE tenant = @t AND {dayRows} AND level = 0 "
            + "AND metric IN ('c', 'r') AND period_s >= @from AND period_s < @to GROUP BY 1, 2 HAVING SUM(n) <> 0 ORDER BY NULL",
        };
        var inRange = ReportRollup.Split(from, to);
        var before = ReportRollup.Split(0, from);
        // In the range: every metric (created, resolved, histograms, ratings); before it, the counts for the backlog.
        foreach (var (pieces, metrics) in new[] { (inRange, "'c', 'r', 'f', 's', 'q'"), (before, "'c', 'r'") })
        {
            foreach (var (level, start, end) in pieces)
            {
                statements.Add(string.Create(CultureInfo.InvariantCulture,
                    $"SELECT gkey, metric, bucket, SUM(n) FROM {RollupTable} WHERE tenant = @t AND dim = '{dim}' AND {keys} AND level = {level} "
                    + $"AND metric IN ({metrics}) AND period_s >= {start} AND period_s < {end} GROUP BY 1, 2, 3 ORDER BY NULL"));
            }
        }

        command.CommandText = string.Join(";\n", statements);

        var createdDays = new List<DayCount>();
        var resolvedDays = new List<DayCount>();
        var range = new Dictionary<(string Group, char Metric, int Bucket), long>();
        var history = new Dictionary<(string Group, char Metric), long>();
        string Label(string gkey) => grouped ? gkey : "";
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var day = new DayCount(reader.GetInt64(0), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture));
                (reader.GetString(1) == "c" ? createdDays : resolvedDays).Add(day);
            }

            for (var piece = 0; piece < inRange.Count + before.Count; piece++)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var group = Label(reader.GetString(0));
                    var metric = reader.GetString(1)[0];
                    var n = Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture);
                    if (piece < inRange.Count)
                    {
                        var k = (group, metric, reader.GetInt32(2));
                        range[k] = range.GetValueOrDefault(k) + n;
                    }
                    else
                    {
                        history[(group, metric)] = history.GetValueOrDefault((group, metric)) + n;
                    }
                }
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);

        List<GroupCount> Counts(char metric) =>
            [.. range.Where(r => r.Key.Metric == metric && r.Value != 0).GroupBy(r => r.Key.Group, StringComparer.Ordinal)
                .Select(g => new GroupCount(g.Key, g.Sum(r => r.Value))).Where(g => g.Count != 0)];
        List<BucketCount> Buckets(char metric) =>
            [.. range.Where(r => r.Key.Metric == metric && r.Value != 0).Select(r => new BucketCount(r.Key.Group, r.Key.Bucket, r.Value))];
        var created = Counts(ReportRollup.Created);
        var resolved = Counts(ReportRollup.Resolved);
        var open = history.Keys.Select(k => k.Group).Distinct(StringComparer.Ordinal)
            .Select(g => new GroupCount(g, history.GetValueOrDefault((g, ReportRollup.Created)) - history.GetValueOrDefault((g, ReportRollup.Resolved))))
            .Where(g => g.Count != 0).ToList();

        return new ReportAggregates(
            [.. createdDays.Where(d => d.Count != 0)], [.. resolvedDays.Where(d => d.Count != 0)], created, resolved,
            Buckets(ReportRollup.FirstResponse), Buckets(ReportRollup.Resolution), Buckets(ReportRollup.Rating), open);
    }

    /// <summary>
    /// A report from the fact rows: six aggregate statements, each a range read of the clustered key (conversations
    /// created in the range) or of the resolution index. The answer for queries the rollup cannot give (a :30/:45 offset,
    /// filters on two dimensions, a filter on another dimension than the grouping), and the reference the rollup is tested against.
    /// </summary>
    public async ValueTask<ReportAggregates> AggregateFactsAsync(string tenant, ReportQuery query, CancellationToken cancellationToken = default)
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
        var counts = new List<(long Day, string Group, long Count)>[2];
        for (var i = 0; i < 2; i++)
        {
            if (i > 0)
            {
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            }

            counts[i] = [];
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                counts[i].Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
            }
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

        static List<DayCount> Days(List<(long Day, string Group, long Count)> rows) =>
            [.. rows.GroupBy(r => r.Day).Select(g => new DayCount(g.Key, g.Sum(r => r.Count)))];
        static List<GroupCount> Groups(List<(long Day, string Group, long Count)> rows) =>
            [.. rows.GroupBy(r => r.Group, StringComparer.Ordinal).Select(g => new GroupCount(g.Key, g.Sum(r => r.Count)))];
        return new ReportAggregates(Days(counts[0]), Days(counts[1]), Groups(counts[0]), Groups(counts[1]), buckets[0], buckets[1], buckets[2], open);
    }
}
