using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Kefu.Contracts.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Events;

/// <summary>
/// The cluster-mode outbox on MariaDB/MySQL (deploy/mysql/006-events.sql), in the message store's database so a
/// message and its events commit in one transaction (<see cref="MySqlMessageStore"/> writes them with
/// <see cref="AppendStatements"/>).
/// </summary>
/// <remarks>
/// Cursors: a transaction that stores events bumps its tenant's row in <c>kefu_event_counter</c> and numbers the
/// events from it. The row stays locked until COMMIT, so the transactions of one tenant take cursors in the order they
/// commit: a reader that has seen cursor N never later finds a new event below N (no consumer skips an event because
/// a slower transaction committed a smaller cursor after it read). A reader takes the counter first and reads events
/// only up to it. Appends are idempotent by event id (a duplicate is skipped and wastes its cursor number).
/// Retention (<see cref="PruneAsync"/>) deletes the oldest cursors in small chunks and records how far it got in
/// <c>kefu_event_pruned</c>, a row writers never touch, so pruning does not wait on or delay writers.
/// </remarks>
public sealed partial class MySqlEventLog(
    IOptions<MySqlMessageStoreOptions> storeOptions,
    IOptions<EventLogOptions> options,
    TimeProvider time,
    ILogger<MySqlEventLog> logger) : IEventLog, IAsyncDisposable
{
    internal const string Table = "kefu_event";

    /// <summary>A type-filtered read examines at most this many cursors, so a rare type cannot make one request scan the whole log.</summary>
    internal const long ScanWindow = 100_000;

    private const int MaxTransientAttempts = 3;

    /// <summary>An event row as both reads select it (<see cref="ReadEvent"/> reads it back by these positions).</summary>
    private const string EventColumns =
        "cursor_no, event_id, type, conversation_id, seq, created_at, causation_kind, causation_id, causation_name, data, message_seq, causation_depth, causation_trigger";

    private const string ReadSql =
        "SELECT (SELECT last FROM kefu_event_counter WHERE tenant = @tenant), " +
        "(SELECT pruned_through FROM kefu_event_pruned WHERE tenant = @tenant);" +
        "SELECT " + EventColumns + " " +
        "FROM " + Table + " WHERE tenant = @tenant AND cursor_no > @after " +
        "AND cursor_no <= GREATEST(@after, COALESCE((SELECT pruned_through FROM kefu_event_pruned WHERE tenant = @tenant), 0)) + @window{0} " +
        "ORDER BY cursor_no LIMIT @limit;" +
        "SELECT pruned_through FROM kefu_event_pruned WHERE tenant = @tenant";

    /// <summary>At most this much event data in one group-committed transaction (the server's packet limit is larger).</summary>
    private const int MaxBatchBytes = 4 * 1024 * 1024;

    private const int MaxBatchAppends = 512;

    private readonly string _connectionString = storeOptions.Value.ConnectionString;
    private readonly Channel<PendingEventAppend> _queue = Channel.CreateUnbounded<PendingEventAppend>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _writer;

    public async ValueTask AppendAsync(IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default)
    {
        if (events.Count == 0)
        {
            return;
        }

        // Validated here, so a bad event fails its own caller and never a batch.
        var pending = new PendingEventAppend([.. events.Select(EventRow.From)]);
        cancellationToken.ThrowIfCancellationRequested();
        EnsureWriter();
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(MySqlEventLog));
        }

        // Once queued the events are written whatever the caller does; waiting is all a cancellation can stop (an
        // append whose outcome the caller did not see is relayed again, and appends are idempotent).
        await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops taking appends and waits for the queued ones to be written.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        if (Volatile.Read(ref _writer) is { } writer)
        {
            await writer.ConfigureAwait(false);
        }
    }

    private void EnsureWriter()
    {
        if (Volatile.Read(ref _writer) is null)
        {
            lock (_queue)
            {
                // Task.Run: the loop must not run on the scheduler of the grain that appended first.
                _writer ??= Task.Run(WriteLoopAsync);
            }
        }
    }

    /// <summary>
    /// Group commit for appends that do not ride in a message's transaction (lifecycle relays, contacts, inbound events):
    /// one writer takes whatever is queued and stores it in one transaction. Every transaction that stores events of a
    /// tenant holds that tenant's counter row until COMMIT, so one transaction per append would serialize them one
    /// commit (and one fsync) at a time; batched, many appends share one.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingEventAppend>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var bytes = 0;
            while (bytes < MaxBatchBytes && batch.Count < MaxBatchAppends && reader.TryRead(out var next))
            {
                batch.Add(next);
                bytes += next.Bytes;
            }

            try
            {
                await WriteAsync([.. batch.SelectMany(p => p.Rows)]).ConfigureAwait(false);
                batch.ForEach(p => p.Completion.TrySetResult());
            }
            catch (Exception) when (batch.Count > 1)
            {
                // One append's rows may be what the server refused: each on its own, so only that caller fails.
                foreach (var one in batch)
                {
                    try
                    {
                        await WriteAsync(one.Rows).ConfigureAwait(false);
                        one.Completion.TrySetResult();
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

    private async Task WriteAsync(List<EventRow> rows)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await OpenAsync(CancellationToken.None).ConfigureAwait(false);
            await using var command = new MySqlCommand { Connection = connection };
            var sql = new StringBuilder("START TRANSACTION;");
            AppendStatements(sql, command.Parameters, rows);
            command.CommandText = sql.Append("COMMIT;").ToString();
            try
            {
                await ExecuteAtomicallyAsync(command, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (MySqlException ex) when (IsTransient(ex) && attempt < MaxTransientAttempts)
            {
                LogTransientRetry(logger, rows.Count, ex.ErrorCode, attempt);
            }
        }
    }

    public async ValueTask<EventPage> ReadAsync(string tenant, long after, IReadOnlyCollection<string>? types, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        after = Math.Clamp(after, 0, long.MaxValue - (2 * ScanWindow)); // cursors never get near the top; keeps the sums in range
        if (types is { Count: 0 } || limit <= 0)
        {
            return new EventPage([], after);
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand { Connection = connection };
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@after", after);
        command.Parameters.AddWithValue("@window", ScanWindow);
        command.Parameters.AddWithValue("@limit", limit);
        var filter = new StringBuilder();
        if (types is null)
        {
            // Explicit-only types (internal notes) go only to those who name them.
            var hidden = EventTypes.All.Where(EventTypes.IsExplicitOnly).ToArray();
            AppendTypeFilter(filter, command.Parameters, " AND type NOT IN (", hidden);
        }
        else
        {
            AppendTypeFilter(filter, command.Parameters, " AND type IN (", [.. types.Distinct(StringComparer.Ordinal)]);
        }

        command.CommandText = string.Format(CultureInfo.InvariantCulture, ReadSql, filter);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var head = reader.IsDBNull(0) ? 0 : reader.GetInt64(0);
        var prunedThrough = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
        // The scan window starts at the oldest retained cursor, so reading from the start after a long prune is not a
        // walk through empty windows. (The statement below may see a later prune and scan further: never less.)
        var bound = Math.Max(after, prunedThrough) + ScanWindow;
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var page = new List<StoredEvent>(Math.Min(limit, 128));
        List<(int Index, long MessageSeq)>? byReference = null;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var data = reader.IsDBNull(9) ? null : reader.GetString(9);
            if (data is null)
            {
                // A message.created row: its data is the message's own row (read below, after this result set).
                (byReference ??= []).Add((page.Count, reader.GetInt64(10)));
            }

            page.Add(ReadEvent(reader, tenant, data ?? string.Empty));
        }

        // Read again after the events: retention marks before it deletes, so a deletion the events statement saw is
        // marked here, and a consumer it made miss events learns that its cursor expired.
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            prunedThrough = Math.Max(prunedThrough, reader.GetInt64(0));
        }

        // A full page continues after its last event. A short one examined everything up to the head (read before the
        // events, so all of it was committed and visible) or the scan window: the consumer continues from there without
        // scanning the skipped events again.
        // (Events past the head read first may be in the page too: the second statement saw later commits.)
        var next = page.Count == limit ? page[^1].Cursor : Math.Max(Math.Max(after, Math.Min(head, bound)), page.Count > 0 ? page[^1].Cursor : 0);
        await reader.DisposeAsync().ConfigureAwait(false);
        if (byReference is not null)
        {
            await FillMessagesAsync(connection, tenant, page, byReference, cancellationToken).ConfigureAwait(false);
        }

        return new EventPage([.. page], next, after < prunedThrough);
    }

    /// <summary>
    /// The timeline's read: the index on the generated column <c>activity_conversation</c> (deploy/mysql/012) holds a
    /// conversation's events other than messages and notes, in cursor order, so this reads at most a few more rows
    /// than it returns. Cursors become visible in order (see the class remarks), so no head is read first.
    /// </summary>
    public async ValueTask<EventPage> ReadConversationAsync(string tenant, string conversationId, long after, IReadOnlyCollection<string> types, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        ArgumentNullException.ThrowIfNull(types);
        if (types.Count == 0 || limit <= 0)
        {
            return new EventPage([], after);
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand { Connection = connection };
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@conversation", conversationId);
        command.Parameters.AddWithValue("@after", Math.Max(0, after));
        command.Parameters.AddWithValue("@limit", limit);
        var filter = new StringBuilder();
        AppendTypeFilter(filter, command.Parameters, " AND type IN (", [.. types.Distinct(StringComparer.Ordinal)]);
        command.CommandText =
            "SELECT " + EventColumns + " " +
            "FROM " + Table + " FORCE INDEX (ix_kefu_event_activity) WHERE tenant = @tenant AND activity_conversation = @conversation AND cursor_no > @after" +
            filter + " ORDER BY cursor_no LIMIT @limit";
        var page = new List<StoredEvent>(Math.Min(limit, 64));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            page.Add(ReadEvent(reader, tenant, reader.IsDBNull(9) ? "{}" : reader.GetString(9)));
        }

        return new EventPage([.. page], page.Count > 0 ? page[^1].Cursor : after);
    }

    /// <summary>
    /// Deletes events older than the retention, oldest cursors first, <see cref="EventLogOptions.PruneChunk"/> rows per
    /// statement with a short pause between chunks; returns how many. Safe to run on several silos at once.
    /// </summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var horizon = (time.GetUtcNow() - settings.Retention).UtcDateTime;
        var tenants = new List<string>();
        await using (var connection = await OpenAsync(cancellationToken).ConfigureAwait(false))
        await using (var command = new MySqlCommand("SELECT tenant FROM kefu_event_counter", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tenants.Add(reader.GetString(0));
            }
        }

        long deleted = 0;
        foreach (var tenant in tenants)
        {
            while (true)
            {
                var (through, full) = await OldPrefixAsync(tenant, horizon, settings.PruneChunk, cancellationToken).ConfigureAwait(false);
                if (through is not { } boundary)
                {
                    break;
                }

                deleted += await DeleteThroughAsync(tenant, boundary, cancellationToken).ConfigureAwait(false);
                if (!full)
                {
                    break;
                }

                // Leave the disk and the purge thread to the writers for a moment.
                await Task.Delay(settings.PrunePause, time, cancellationToken).ConfigureAwait(false);
            }
        }

        if (deleted > 0)
        {
            LogPruned(logger, deleted, horizon);
        }

        return deleted;
    }

    /// <summary>
    /// The data of message.created events stored by reference (<c>message_seq</c>, deploy/mysql/009): read the messages'
    /// rows in one statement and write each event's data from its message, as it would have been written with the event.
    /// A message that no longer exists reads as <c>{"message":null,"messageSeq":n}</c>.
    /// </summary>
    private static async Task FillMessagesAsync(
        MySqlConnection connection, string tenant, List<StoredEvent> page, List<(int Index, long MessageSeq)> byReference, CancellationToken cancellationToken)
    {
        var messages = await MySqlMessageStore.ReadByKeysAsync(
            connection, tenant, [.. byReference.Select(r => (page[r.Index].ConversationId ?? string.Empty, r.MessageSeq))], cancellationToken).ConfigureAwait(false);
        foreach (var (index, messageSeq) in byReference)
        {
            var e = page[index];
            page[index] = e with
            {
                DataJson = messages.TryGetValue((e.ConversationId ?? string.Empty, messageSeq), out var message)
                    ? EventJson.Data(new MessageCreated(message))
                    : string.Create(CultureInfo.InvariantCulture, $"{{\"message\":null,\"messageSeq\":{messageSeq}}}"),
            };
        }
    }

    /// <summary>
    /// Adds the statements that store <paramref name="rows"/> to a transaction's text: per tenant (in ordinal order, so
    /// two transactions never wait on each other's counters crosswise), bump the counter by the tenant's event count,
    /// then insert its events numbered from it in list order, skipping ids stored before. Uses positional parameters.
    /// </summary>
    internal static void AppendStatements(StringBuilder sql, MySqlParameterCollection parameters, IReadOnlyList<EventRow> rows)
    {
        foreach (var group in rows.GroupBy(r => r.Tenant, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var tenantRows = group.ToList();
            var n = tenantRows.Count;
            sql.Append(CultureInfo.InvariantCulture,
                $"INSERT INTO kefu_event_counter (tenant, last) VALUES (?, LAST_INSERT_ID({n})) ON DUPLICATE KEY UPDATE last = LAST_INSERT_ID(last + {n});");
            parameters.Add(new MySqlParameter { Value = group.Key });
            sql.Append("INSERT INTO ").Append(Table)
                .Append(" (tenant, cursor_no, event_id, type, conversation_id, seq, created_at, causation_kind, causation_id, causation_name, data, message_seq, causation_depth, causation_trigger) VALUES ");
            for (var i = 0; i < n; i++)
            {
                var r = tenantRows[i];
                // LAST_INSERT_ID() is this connection's value from the counter statement: no auto-increment column here changes it.
                sql.Append(i == 0 ? string.Empty : ",").Append(CultureInfo.InvariantCulture, $"(?,LAST_INSERT_ID()-{n - 1 - i},?,?,?,?,?,?,?,?,?,?,?,?)");
                parameters.Add(new MySqlParameter { Value = r.Tenant });
                parameters.Add(new MySqlParameter { Value = r.Id });
                parameters.Add(new MySqlParameter { Value = r.Type });
                parameters.Add(new MySqlParameter { Value = (object?)r.ConversationId ?? DBNull.Value });
                parameters.Add(new MySqlParameter { Value = r.Seq });
                parameters.Add(new MySqlParameter { Value = r.Time });
                parameters.Add(new MySqlParameter { Value = r.CausationKind });
                parameters.Add(new MySqlParameter { Value = r.CausationId });
                parameters.Add(new MySqlParameter { Value = (object?)r.CausationName ?? DBNull.Value });
                parameters.Add(new MySqlParameter { Value = (object?)r.Data ?? DBNull.Value });
                parameters.Add(new MySqlParameter { Value = (object?)r.MessageSeq ?? DBNull.Value });
                parameters.Add(new MySqlParameter { Value = r.CausationDepth });
                parameters.Add(new MySqlParameter { Value = (object?)r.CausationTrigger ?? DBNull.Value });
            }

            // Not INSERT IGNORE: that would also turn a too-long value into a silently truncated row.
            sql.Append(" ON DUPLICATE KEY UPDATE event_id = event_id;");
        }
    }

    /// <summary>
    /// Runs a command whose text is a whole transaction (START TRANSACTION … COMMIT, one round trip). If a statement
    /// fails the server skips the rest, leaving the transaction open: roll it back here, so its locks (the tenant
    /// counters) are released now rather than when the pooled connection is next reset.
    /// </summary>
    internal static async Task ExecuteAtomicallyAsync(MySqlCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await RollBackQuietlyAsync(command.Connection!).ConfigureAwait(false);
            throw;
        }
    }

    internal static async Task RollBackQuietlyAsync(MySqlConnection connection)
    {
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var rollback = new MySqlCommand("ROLLBACK", connection);
                await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is MySqlException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The connection is gone: the server rolls back the transaction itself.
        }
    }

    /// <summary>The whole transaction was rolled back by the server, so writing it again is safe.</summary>
    internal static bool IsTransient(MySqlException ex) => ex.ErrorCode is MySqlErrorCode.LockDeadlock;

    /// <summary>One row of <see cref="EventColumns"/>; <paramref name="data"/> is given (a message.created row's data is read apart).</summary>
    private static StoredEvent ReadEvent(MySqlDataReader reader, string tenant, string data) => new(
        reader.GetInt64(0),
        new Ulid(reader.GetFieldValue<byte[]>(1)),
        reader.GetString(2),
        tenant,
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.GetInt64(4),
        new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc)),
        new Causation(reader.GetString(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
            reader.GetInt32(11), reader.IsDBNull(12) ? null : reader.GetString(12)),
        data);

    private static void AppendTypeFilter(StringBuilder filter, MySqlParameterCollection parameters, string prefix, string[] types)
    {
        if (types.Length == 0)
        {
            return;
        }

        filter.Append(prefix);
        for (var i = 0; i < types.Length; i++)
        {
            var name = "@type" + i.ToString(CultureInfo.InvariantCulture);
            filter.Append(i == 0 ? string.Empty : ",").Append(name);
            parameters.AddWithValue(name, types[i]);
        }

        filter.Append(')');
    }

    /// <summary>The last cursor of the oldest run of events older than <paramref name="horizon"/> (at most <paramref name="chunk"/>), and whether the run filled the chunk.</summary>
    private async Task<(long? Through, bool Full)> OldPrefixAsync(string tenant, DateTime horizon, int chunk, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand(
            "SELECT cursor_no, created_at FROM " + Table + " WHERE tenant = @tenant ORDER BY cursor_no LIMIT @chunk", connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@chunk", chunk);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        long? through = null;
        var count = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Cursor order is roughly time order; stop at the first young event so what is pruned is a prefix of cursors.
            if (reader.GetDateTime(1) >= horizon)
            {
                return (through, false);
            }

            through = reader.GetInt64(0);
            count++;
        }

        return (through, count == chunk);
    }

    private async Task<long> DeleteThroughAsync(string tenant, long through, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);

        // Mark first, then delete: a reader must never find the gap without learning that its cursor expired.
        await using (var mark = new MySqlCommand(
            "INSERT INTO kefu_event_pruned (tenant, pruned_through) VALUES (@tenant, @through) " +
            "ON DUPLICATE KEY UPDATE pruned_through = GREATEST(pruned_through, VALUES(pruned_through))", connection))
        {
            mark.Parameters.AddWithValue("@tenant", tenant);
            mark.Parameters.AddWithValue("@through", through);
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var delete = new MySqlCommand("DELETE FROM " + Table + " WHERE tenant = @tenant AND cursor_no <= @through", connection);
        delete.Parameters.AddWithValue("@tenant", tenant);
        delete.Parameters.AddWithValue("@through", through);
        return await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken) => MySqlConnections.OpenAsync(_connectionString, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing {Count} events hit {Error}; retrying (attempt {Attempt})")]
    private static partial void LogTransientRetry(ILogger logger, int count, MySqlErrorCode error, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention pruned {Count} events older than {Horizon:o}")]
    private static partial void LogPruned(ILogger logger, long count, DateTime horizon);
}

/// <summary>One event validated and encoded for <c>kefu_event</c>.</summary>
internal sealed class EventRow
{
    private const int MaxTenantLength = 64;
    private const int MaxTypeLength = 64;
    private const int MaxConversationLength = 64;
    private const int MaxCausationKindLength = 16;
    private const int MaxCausationIdLength = 128;
    private const int MaxCausationNameLength = 255;
    private const int MaxCausationTriggerLength = 32;

    private EventRow(DomainEvent e)
    {
        Tenant = e.Tenant;
        Id = e.Id.ToByteArray();
        Type = e.Type;
        ConversationId = e.ConversationId;
        Seq = e.Seq;
        Time = e.Time.UtcDateTime;
        CausationKind = e.Causation.Kind;
        CausationId = e.Causation.Id;
        CausationName = e.Causation.Name is { Length: > MaxCausationNameLength } name ? name[..MaxCausationNameLength] : e.Causation.Name;
        CausationDepth = e.Causation.Depth;
        CausationTrigger = e.Causation.TriggerEventId;
        if (e.Data is MessageCreated created && e.ConversationId == created.Message.ConversationId)
        {
            // By reference: the message's own row is the data (read back by the events API). Written in the message's
            // transaction or after it, so the row exists whenever the event does.
            MessageSeq = created.Message.Seq;
        }
        else
        {
            Data = EventJson.Data(e.Data);
        }
    }

    public string Tenant { get; }

    public byte[] Id { get; }

    public string Type { get; }

    public string? ConversationId { get; }

    public long Seq { get; }

    public DateTime Time { get; }

    public string CausationKind { get; }

    public string CausationId { get; }

    public string? CausationName { get; }

    /// <summary>How many routing rules stand behind the event (deploy/mysql/010): the loop guard reads it back.</summary>
    public int CausationDepth { get; }

    /// <summary>The event a rule was handling when it caused this one (deploy/mysql/010).</summary>
    public string? CausationTrigger { get; }

    /// <summary>The data as JSON; null for a message.created event, whose data is its message's row (<see cref="MessageSeq"/>).</summary>
    public string? Data { get; }

    public long? MessageSeq { get; }

    /// <summary>Roughly what the row adds to a statement, for the message store's batch size limit.</summary>
    public int Bytes => ((Data?.Length ?? 0) * 3) + 256; // UTF-8: at most 3 bytes per UTF-16 unit

    /// <summary>Validates (so a bad event fails its own append, not a whole batch) and encodes.</summary>
    public static EventRow From(DomainEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(e.Causation, nameof(e));
        ArgumentNullException.ThrowIfNull(e.Data, nameof(e));
        Check(e.Tenant, 1, MaxTenantLength, "event.Tenant");
        Check(e.Type, 1, MaxTypeLength, "event.Type");
        if (e.ConversationId is { } conversation)
        {
            Check(conversation, 1, MaxConversationLength, "event.ConversationId");
        }

        Check(e.Causation.Kind, 1, MaxCausationKindLength, "event.Causation.Kind");
        Check(e.Causation.Id, 0, MaxCausationIdLength, "event.Causation.Id");
        if (e.Causation.TriggerEventId is { } trigger)
        {
            Check(trigger, 1, MaxCausationTriggerLength, "event.Causation.TriggerEventId");
        }

        if (e.Causation.Depth is < 0 or > short.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(e), e.Causation.Depth, "Causation.Depth is out of range.");
        }
        if (e.Time.UtcDateTime.Year < 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(e), e.Time, "Time is before the year 1000 (DATETIME's range).");
        }

        return new EventRow(e);
    }

    private static void Check(string? value, int min, int max, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Length < min || value.Length > max)
        {
            throw new ArgumentException($"{name} must be {min} to {max} characters.", name);
        }
    }
}

/// <summary>One caller's events waiting for the event log's writer.</summary>
internal sealed class PendingEventAppend(List<EventRow> rows)
{
    public List<EventRow> Rows { get; } = rows;

    public int Bytes { get; } = rows.Sum(r => r.Bytes);

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
