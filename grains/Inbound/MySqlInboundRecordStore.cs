using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Inbound;

/// <summary>
/// Cluster mode's deduplication records (deploy/mysql/011-inbound-events.sql). Nearly every sender id is seen once, so
/// the cost per event is what matters: lookups of a silo's new ids share one <c>SELECT</c>, and saves share one
/// transaction that also writes their inbound.received events to <c>kefu_event</c> — a record and its event commit
/// together, and a batch commits once. Each loop keeps its connection (<see cref="HeldConnection"/>).
/// </summary>
/// <remarks>
/// Only an id's grain writes its record, but Orleans may briefly run two activations of one id on two silos. A save
/// therefore never replaces a record still within retention (the UPDATE half of the upsert only applies to a stale one),
/// inserts its event only if its own record is the one stored (<c>INSERT … SELECT</c> on the record's event id), and reads
/// back, in the same transaction, which record won: the loser is answered with the winner's record and wrote nothing.
/// </remarks>
public sealed partial class MySqlInboundRecordStore : IInboundRecordStore, IAsyncDisposable
{
    internal const string Table = "kefu_inbound_event";

    private const int MaxBatch = 256;
    private const int MaxTransientAttempts = 3;
    private const int PruneChunk = 1000;
    private const string Columns = "source_id, body_hash, event_id, conversation_id, contact_id, accepted_at";

    private readonly string _connectionString;
    private readonly TimeSpan _retention;
    private readonly TimeProvider _time;
    private readonly ILogger<MySqlInboundRecordStore> _logger;
    private readonly Channel<PendingLookup> _lookups = Channel.CreateUnbounded<PendingLookup>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<PendingSave> _saves = Channel.CreateUnbounded<PendingSave>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loops;

    public MySqlInboundRecordStore(IOptions<MySqlMessageStoreOptions> storeOptions, IOptions<InboundOptions> options, TimeProvider time, ILogger<MySqlInboundRecordStore> logger)
    {
        _connectionString = storeOptions.Value.ConnectionString;
        _retention = options.Value.DedupRetention;
        _time = time;
        _logger = logger;

        // Task.Run: the loops must not inherit the scheduler of the grain that first resolved this singleton.
        _loops = Task.WhenAll(Task.Run(LookupLoopAsync), Task.Run(SaveLoopAsync));
    }

    public ValueTask<InboundRecord?> FindAsync(string tenant, string sourceId, CancellationToken cancellationToken = default)
    {
        var pending = new PendingLookup(tenant, sourceId);
        if (!_lookups.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(MySqlInboundRecordStore));
        }

        return new ValueTask<InboundRecord?>(pending.Completion.Task.WaitAsync(cancellationToken));
    }

    public async ValueTask<InboundRecord> SaveAsync(InboundRecord record, DomainEvent received, DateTimeOffset staleBefore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);

        // Validated here, so a bad event fails its own caller and never a batch.
        var pending = new PendingSave(record, EventRow.From(received));
        cancellationToken.ThrowIfCancellationRequested();
        if (!_saves.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(MySqlInboundRecordStore));
        }

        // Once queued it is written whatever the caller does; a caller that stops waiting learns the outcome from a lookup.
        return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> PruneAsync(DateTimeOffset staleBefore, CancellationToken cancellationToken = default)
    {
        long total = 0;
        while (true)
        {
            await using var connection = await MySqlConnections.OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);
            await using var command = new MySqlCommand($"DELETE FROM {Table} WHERE accepted_at < @before LIMIT {PruneChunk}", connection);
            command.Parameters.AddWithValue("@before", staleBefore.UtcDateTime);
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            total += deleted;
            if (deleted < PruneChunk)
            {
                return total;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lookups.Writer.TryComplete();
        _saves.Writer.TryComplete();
        await _loops.ConfigureAwait(false);
    }

    private async Task LookupLoopAsync()
    {
        await using var held = new HeldConnection(_connectionString, _time);
        var batch = new List<PendingLookup>();
        while (await _lookups.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _lookups.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                var found = await RunOnHeldAsync(held, connection => LookupAsync(connection, batch)).ConfigureAwait(false);
                foreach (var lookup in batch)
                {
                    lookup.Completion.TrySetResult(found.GetValueOrDefault((lookup.Tenant, lookup.SourceId)));
                }
            }
            catch (Exception ex)
            {
                batch.ForEach(l => l.Completion.TrySetException(ex));
            }

            batch.Clear();
        }
    }

    private async Task SaveLoopAsync()
    {
        await using var held = new HeldConnection(_connectionString, _time);
        var batch = new List<PendingSave>();
        while (await _saves.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _saves.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            try
            {
                await SaveBatchAsync(held, batch).ConfigureAwait(false);
            }
            catch (Exception) when (batch.Count > 1)
            {
                // One save's values may be what the server refused: each on its own, so only that caller fails.
                LogBatchFallback(_logger, batch.Count);
                foreach (var one in batch)
                {
                    try
                    {
                        await SaveBatchAsync(held, [one]).ConfigureAwait(false);
                    }
                    catch (Exception ex)
                    {
                        one.Completion.TrySetException(ex);
                    }
                }
            }
            catch (Exception ex)
            {
                batch[0].Completion.TrySetException(ex);
            }

            batch.Clear();
        }
    }

    private async Task SaveBatchAsync(HeldConnection held, List<PendingSave> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var stored = await RunOnHeldAsync(held, connection => WriteAsync(connection, batch)).ConfigureAwait(false);
                foreach (var save in batch)
                {
                    save.Completion.TrySetResult(stored.TryGetValue((save.Record.Tenant, save.Record.SourceId), out var winner) ? winner : save.Record);
                }

                return;
            }
            catch (MySqlException ex) when (MySqlEventLog.IsTransient(ex) && attempt < MaxTransientAttempts)
            {
                LogTransientRetry(_logger, batch.Count, ex.ErrorCode, attempt);
            }
        }
    }

    /// <summary>Runs on the kept connection; a failure on a kept (possibly dead) one is tried once more on a new one.</summary>
    private static async Task<T> RunOnHeldAsync<T>(HeldConnection held, Func<MySqlConnection, Task<T>> work)
    {
        while (true)
        {
            var connection = await held.GetAsync().ConfigureAwait(false);
            var reused = held.WasReused;
            try
            {
                return await work(connection).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MySqlException or IOException or InvalidOperationException)
            {
                await held.DropAsync().ConfigureAwait(false);
                if (!reused)
                {
                    throw;
                }
            }
        }
    }

    private static async Task<Dictionary<(string, string), InboundRecord>> LookupAsync(MySqlConnection connection, List<PendingLookup> batch)
    {
        await using var command = new MySqlCommand { Connection = connection };
        var sql = new StringBuilder();
        var tenants = batch.GroupBy(l => l.Tenant, StringComparer.Ordinal).ToList();
        foreach (var group in tenants)
        {
            AppendSelect(sql, command.Parameters, group.Key, [.. group.Select(l => l.SourceId).Distinct(StringComparer.Ordinal)]);
        }

        command.CommandText = sql.ToString();
        var found = new Dictionary<(string, string), InboundRecord>();
        await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
        foreach (var group in tenants)
        {
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var record = ReadRecord(reader, group.Key);
                found[(record.Tenant, record.SourceId)] = record;
            }

            await reader.NextResultAsync().ConfigureAwait(false);
        }

        return found;
    }

    /// <summary>
    /// One transaction: the records (a stale one is replaced, a current one kept), per tenant the counter bump and the
    /// events of the records that are ours, then the stored records read back (which activation won), COMMIT.
    /// </summary>
    private async Task<Dictionary<(string, string), InboundRecord>> WriteAsync(MySqlConnection connection, List<PendingSave> batch)
    {
        await using var command = new MySqlCommand { Connection = connection };
        var p = command.Parameters;
        var sql = new StringBuilder("START TRANSACTION;");
        var retentionMicroseconds = (long)_retention.TotalMicroseconds;
        sql.Append("INSERT INTO ").Append(Table).Append(" (tenant, ").Append(Columns).Append(") VALUES ");
        for (var i = 0; i < batch.Count; i++)
        {
            var r = batch[i].Record;
            sql.Append(i == 0 ? "(?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?)");
            Add(p, r.Tenant);
            Add(p, r.SourceId);
            Add(p, Convert.FromHexString(r.BodyHash));
            Add(p, Ulid.Parse(r.Answer.EventId).ToByteArray());
            Add(p, r.Answer.ConversationId);
            Add(p, r.Answer.ContactId);
            Add(p, r.AcceptedAt.UtcDateTime);
        }

        // MySQL evaluates the assignments left to right, each seeing the ones before: accepted_at, which the others test,
        // is assigned last. A record younger than retention keeps every column.
        var stale = string.Create(CultureInfo.InvariantCulture, $"accepted_at < VALUES(accepted_at) - INTERVAL {retentionMicroseconds} MICROSECOND");
        sql.Append(" ON DUPLICATE KEY UPDATE ");
        foreach (var column in new[] { "body_hash", "event_id", "conversation_id", "contact_id", "accepted_at" })
        {
            sql.Append(column == "body_hash" ? string.Empty : ",").Append(CultureInfo.InvariantCulture, $"{column} = IF({stale}, VALUES({column}), {column})");
        }

        sql.Append(';');
        var tenants = batch.GroupBy(s => s.Record.Tenant, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        foreach (var group in tenants)
        {
            var saves = group.ToList();
            var n = saves.Count;
            sql.Append(CultureInfo.InvariantCulture,
                $"INSERT INTO kefu_event_counter (tenant, last) VALUES (?, LAST_INSERT_ID({n})) ON DUPLICATE KEY UPDATE last = LAST_INSERT_ID(last + {n});");
            Add(p, group.Key);
            for (var i = 0; i < n; i++)
            {
                // Only if the stored record carries this event's id: a losing activation's event is not written (its
                // cursor number is wasted, which cursors allow). A batch written again after an unclear failure finds its
                // event stored already: the duplicate key leaves it as it is.
                var row = saves[i].Event;
                sql.Append("INSERT INTO ").Append(MySqlEventLog.Table)
                    .Append(" (tenant, cursor_no, event_id, type, conversation_id, seq, created_at, causation_kind, causation_id, causation_name, data) ")
                    .Append(CultureInfo.InvariantCulture, $"SELECT ?, LAST_INSERT_ID()-{n - 1 - i}, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM ")
                    .Append(Table).Append(" WHERE tenant = ? AND source_id = ? AND event_id = ? ON DUPLICATE KEY UPDATE seq = ")
                    .Append(MySqlEventLog.Table).Append(".seq;");
                Add(p, row.Tenant);
                Add(p, row.Id);
                Add(p, row.Type);
                Add(p, row.ConversationId);
                Add(p, row.Seq);
                Add(p, row.Time);
                Add(p, row.CausationKind);
                Add(p, row.CausationId);
                Add(p, row.CausationName);
                Add(p, row.Data);
                Add(p, saves[i].Record.Tenant);
                Add(p, saves[i].Record.SourceId);
                Add(p, row.Id);
            }
        }

        foreach (var group in tenants)
        {
            AppendSelect(sql, p, group.Key, [.. group.Select(s => s.Record.SourceId)]);
        }

        command.CommandText = sql.Append("COMMIT;").ToString();
        var stored = new Dictionary<(string, string), InboundRecord>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
            foreach (var group in tenants)
            {
                while (await reader.ReadAsync().ConfigureAwait(false))
                {
                    var record = ReadRecord(reader, group.Key);
                    stored[(record.Tenant, record.SourceId)] = record;
                }

                await reader.NextResultAsync().ConfigureAwait(false);
            }

            // The COMMIT's own result: reading to the end surfaces an error it raised.
            while (await reader.NextResultAsync().ConfigureAwait(false))
            {
            }
        }
        catch
        {
            await MySqlEventLog.RollBackQuietlyAsync(connection).ConfigureAwait(false);
            throw;
        }

        // The winners: each save's own record when its event id is stored, else the record that was there.
        foreach (var save in batch)
        {
            var key = (save.Record.Tenant, save.Record.SourceId);
            if (stored.TryGetValue(key, out var winner) && winner.Answer.EventId == save.Record.Answer.EventId)
            {
                stored[key] = save.Record;
            }
        }

        return stored;
    }

    private static void AppendSelect(StringBuilder sql, MySqlParameterCollection parameters, string tenant, string[] sourceIds)
    {
        sql.Append("SELECT ").Append(Columns).Append(" FROM ").Append(Table).Append(" WHERE tenant = ? AND source_id IN (");
        Add(parameters, tenant);
        for (var i = 0; i < sourceIds.Length; i++)
        {
            sql.Append(i == 0 ? "?" : ",?");
            Add(parameters, sourceIds[i]);
        }

        sql.Append(");");
    }

    private static InboundRecord ReadRecord(MySqlDataReader reader, string tenant)
    {
        var hash = new byte[32];
        reader.GetBytes(1, 0, hash, 0, hash.Length);
        var eventId = new byte[16];
        reader.GetBytes(2, 0, eventId, 0, eventId.Length);
        var acceptedAt = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc));
        var answer = new InboundAck(
            new Ulid(eventId).ToString(),
            Replayed: false,
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4));
        return new InboundRecord(tenant, reader.GetString(0), Convert.ToHexStringLower(hash), answer, acceptedAt);
    }

    private static void Add(MySqlParameterCollection parameters, object? value) => parameters.Add(new MySqlParameter { Value = value ?? DBNull.Value });

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbound records: a batch of {Count} failed; writing each on its own")]
    private static partial void LogBatchFallback(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Inbound records: a batch of {Count} hit a transient error {Error} (attempt {Attempt}); retrying")]
    private static partial void LogTransientRetry(ILogger logger, int count, MySqlErrorCode error, int attempt);

    private sealed class PendingLookup(string tenant, string sourceId)
    {
        public string Tenant { get; } = tenant;

        public string SourceId { get; } = sourceId;

        public TaskCompletionSource<InboundRecord?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class PendingSave(InboundRecord record, EventRow row)
    {
        public InboundRecord Record { get; } = record;

        public EventRow Event { get; } = row;

        public TaskCompletionSource<InboundRecord> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
