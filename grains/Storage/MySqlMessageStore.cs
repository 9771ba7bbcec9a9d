using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Threading.Channels;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Grains.Storage;

/// <summary>
/// The cluster-mode message log on MariaDB/MySQL (table <c>kefu_message</c>, deploy/mysql/002-messages.sql).
/// </summary>
/// <remarks>
/// Appends are group-committed: every caller's append goes into one queue; each of <see cref="MySqlMessageStoreOptions.Writers"/>
/// writer loops takes whatever is queued (up to <see cref="MySqlMessageStoreOptions.MaxBatchSize"/>) and writes it as one
/// multi-row INSERT, a single auto-committed statement and so one transaction, then completes the callers' tasks. An idle
/// store costs one round trip per append; under load batches grow instead of latency. A completed append is committed;
/// a failed one may or may not be (a lost connection during the commit), which is why the conversation grain re-reads.
/// An append may carry domain events (its message.created, and earlier events of the conversation still to be relayed):
/// a batch with events is instead one explicit transaction sent as one command, still one round trip — the message
/// INSERT, then per tenant the outbox counter and the events (<see cref="MySqlEventLog.AppendStatements"/>), then
/// COMMIT — so a message and its events are durable together or not at all.
/// A duplicate key fails only the offending append: the batch is rolled back and its rows are written one by one in one
/// transaction (an append's message and events behind a savepoint, so a failed append stores no event). Concurrent
/// writers keep each conversation's order because a conversation grain awaits each append before the next; a caller
/// that does not wait gets uniqueness, not ordering. Register as a singleton; dispose to
/// write what is queued and stop.
/// </remarks>
public sealed partial class MySqlMessageStore : IMessageStore, IAsyncDisposable, IDisposable
{
    internal const string Table = "kefu_message";
    internal const byte CodecUtf8 = 0;
    internal const byte CodecBrotli = 1;

    private const string ClientKey = "ux_kefu_message_client";
    private const string InsertPrefix =
        "INSERT INTO " + Table + " (tenant, conversation_id, seq, message_id, sender_role, sender_id, sender_name, " +
        "client_msg_id, created_at, body_codec, body_size, body, content_kind, content) VALUES ";
    private const string RowPlaceholders = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    private const string SelectColumns =
        "SELECT seq, message_id, sender_role, sender_id, sender_name, client_msg_id, created_at, body_codec, body_size, body, content_kind, content FROM " + Table;
    private const string SelectAfterSql =
        SelectColumns + " WHERE tenant = @tenant AND conversation_id = @conversation AND seq > @after ORDER BY seq LIMIT @limit";
    private const string SelectLatestSql =
        SelectColumns + " WHERE tenant = @tenant AND conversation_id = @conversation ORDER BY seq DESC LIMIT @limit";
    private const string SelectByClientSql =
        SelectColumns + " WHERE tenant = @tenant AND conversation_id = @conversation AND sender_role = @role AND sender_id = @sender AND client_msg_id = @client";

    private const int MaxTenantLength = 64;
    private const int MaxSenderIdLength = 128;
    private const int MaxSenderNameLength = 255;
    private const int MaxClientMsgIdLength = 64;
    private const int BrotliWindow = 22;
    private const int RowOverheadBytes = 256;
    private const int MaxTransientAttempts = 3;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly MySqlMessageStoreOptions _options;
    private readonly ILogger<MySqlMessageStore> _logger;
    private readonly Channel<PendingAppend> _queue;
    private readonly string?[] _insertSql;
    private readonly Task _writers;
    private long _batchesWritten;
    private long _appendsWritten;

    public MySqlMessageStore(IOptions<MySqlMessageStoreOptions> options, ILogger<MySqlMessageStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        Validate(_options);
        _insertSql = new string?[_options.MaxBatchSize + 1];
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = _options.Writers == 1,
            SingleWriter = false,
        });

        // Task.Run: the loops must not inherit a grain's scheduler when the singleton is first resolved inside a grain.
        _writers = Task.WhenAll(Enumerable.Range(0, _options.Writers).Select(_ => Task.Run(WriteLoopAsync)));
    }

    /// <summary>Multi-row INSERTs (or one-by-one fallbacks) committed so far.</summary>
    internal long BatchesWritten => Interlocked.Read(ref _batchesWritten);

    /// <summary>Appends committed so far.</summary>
    internal long AppendsWritten => Interlocked.Read(ref _appendsWritten);

    /// <summary>
    /// Completes when <paramref name="message"/> is committed. Faults with <see cref="MessageStoreConflictException"/> if its
    /// seq exists, with <see cref="DuplicateClientMessageException"/> if its sender already stored its ClientMsgId in this
    /// conversation, with the database's exception otherwise. Canceling only takes effect while the append is still queued;
    /// a canceled append was not written.
    /// </summary>
    public ValueTask AppendAsync(string tenant, ChatMessage message, CancellationToken cancellationToken = default) =>
        AppendAsync(tenant, message, [], cancellationToken);

    /// <summary>
    /// As the other overload, and <paramref name="events"/> are stored in the outbox (<see cref="MySqlEventLog"/>) in
    /// the same transaction and round trip as the message: both or neither. An event stored before is skipped.
    /// </summary>
    public ValueTask AppendAsync(string tenant, ChatMessage message, IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default)
    {
        PendingAppend append;
        try
        {
            append = PendingAppend.Create(tenant, message, _options);
            append.Events = events.Count == 0 ? [] : [.. events.Select(EventRow.From)];
        }
        catch (ArgumentException ex)
        {
            return ValueTask.FromException(ex);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        append.WatchCancellation(cancellationToken);
        return _queue.Writer.TryWrite(append) ? new ValueTask(append.Completion.Task) : EnqueueSlowlyAsync(append, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(string tenant, string conversationId, long afterSeq, int limit, CancellationToken cancellationToken = default)
    {
        var conversation = ConversationBytes(conversationId);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (limit <= 0)
        {
            return [];
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand(SelectAfterSql, connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@conversation", conversation);
        command.Parameters.AddWithValue("@after", afterSeq);
        command.Parameters.AddWithValue("@limit", limit);
        return await ReadMessagesAsync(command, conversationId, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ChatMessage>> ReadLatestAsync(string tenant, string conversationId, int count, CancellationToken cancellationToken = default)
    {
        var conversation = ConversationBytes(conversationId);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (count <= 0)
        {
            return [];
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand(SelectLatestSql, connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@conversation", conversation);
        command.Parameters.AddWithValue("@limit", count);
        var newestFirst = await ReadMessagesAsync(command, conversationId, cancellationToken).ConfigureAwait(false);
        newestFirst.Reverse();
        return newestFirst;
    }

    /// <summary>
    /// Deletes the conversation's rows in chunks (each a short transaction on one primary-key range, so writers of other
    /// conversations are not held up by one long delete).
    /// </summary>
    public async ValueTask<long> DeleteConversationAsync(string tenant, string conversationId, CancellationToken cancellationToken = default)
    {
        var conversation = ConversationBytes(conversationId);
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand(
            "DELETE FROM " + Table + " WHERE tenant = @tenant AND conversation_id = @conversation ORDER BY seq LIMIT 1000", connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@conversation", conversation);
        long deleted = 0;
        while (true)
        {
            var n = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            deleted += n;
            if (n < 1000)
            {
                return deleted;
            }
        }
    }

    /// <summary>
    /// The messages with the given (conversation id, seq) keys of one tenant, read in one statement on
    /// <paramref name="connection"/> (the events API builds message.created data from them). Keys that name no stored
    /// message are absent from the answer; conversation ids that are not canonical ULIDs name none.
    /// </summary>
    internal static async Task<Dictionary<(string ConversationId, long Seq), ChatMessage>> ReadByKeysAsync(
        MySqlConnection connection, string tenant, IReadOnlyList<(string ConversationId, long Seq)> keys, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(string, long), ChatMessage>();
        var byConversation = keys
            .Where(k => Ulid.TryParse(k.ConversationId, out var u) && string.Equals(u.ToString(), k.ConversationId, StringComparison.Ordinal))
            .GroupBy(k => k.ConversationId, StringComparer.Ordinal)
            .ToList();
        if (byConversation.Count == 0)
        {
            return found;
        }

        await using var command = new MySqlCommand { Connection = connection };
        var sql = new StringBuilder(SelectColumns.Replace(" FROM ", ", conversation_id FROM ", StringComparison.Ordinal)).Append(" WHERE tenant = @tenant AND (");
        command.Parameters.AddWithValue("@tenant", tenant);
        var p = 0;
        for (var c = 0; c < byConversation.Count; c++)
        {
            var name = "@c" + c.ToString(CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue(name, ConversationBytes(byConversation[c].Key));
            sql.Append(c == 0 ? "(" : " OR (").Append("conversation_id = ").Append(name).Append(" AND seq IN (");
            var first = true;
            foreach (var (_, seq) in byConversation[c].Distinct())
            {
                var seqName = "@s" + (p++).ToString(CultureInfo.InvariantCulture);
                command.Parameters.AddWithValue(seqName, seq);
                sql.Append(first ? string.Empty : ",").Append(seqName);
                first = false;
            }

            sql.Append("))");
        }

        command.CommandText = sql.Append(')').ToString();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var conversationId = new Ulid(reader.GetFieldValue<byte[]>(12)).ToString();
            var message = ReadMessage(reader, conversationId);
            found[(conversationId, message.Seq)] = message;
        }

        return found;
    }

    /// <summary>
    /// Partition maintenance: splits the MAXVALUE partition <c>pmax</c> so every calendar month (UTC) up to and including
    /// the month of <paramref name="through"/> has its own partition. Run at start and daily with a few months of lead,
    /// so <c>pmax</c> stays empty and each split copies no rows. Returns how many partitions were added.
    /// </summary>
    public async Task<int> EnsurePartitionsAsync(DateTimeOffset through, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var months = new List<DateTime>();
        var hasMax = false;
        await using (var query = new MySqlCommand(
            "SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table", connection))
        {
            query.Parameters.AddWithValue("@table", Table);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var name = reader.IsDBNull(0) ? string.Empty : reader.GetString(0);
                hasMax |= name == "pmax";
                if (name.Length == 7 && name[0] == 'p' &&
                    DateTime.TryParseExact(name[1..], "yyyyMM", CultureInfo.InvariantCulture, DateTimeStyles.None, out var month))
                {
                    months.Add(month);
                }
            }
        }

        if (!hasMax)
        {
            throw new InvalidOperationException($"{Table} has no partition pmax to split; was deploy/mysql/002-messages.sql applied?");
        }

        var target = new DateTime(through.UtcDateTime.Year, through.UtcDateTime.Month, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var next = months.Count > 0 ? months.Max().AddMonths(1) : target;
        if (next > target)
        {
            return 0;
        }

        var sql = new StringBuilder("ALTER TABLE ").Append(Table).Append(" REORGANIZE PARTITION pmax INTO (");
        var added = 0;
        for (var month = next; month <= target; month = month.AddMonths(1), added++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"PARTITION p{month:yyyyMM} VALUES LESS THAN (0x{MonthBound(month.AddMonths(1))}), ");
        }

        sql.Append("PARTITION pmax VALUES LESS THAN (MAXVALUE))");
        await using var alter = new MySqlCommand(sql.ToString(), connection) { CommandTimeout = 600 };
        try
        {
            await alter.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.SameNamePartition)
        {
            // Another silo split pmax in the meantime.
            return 0;
        }

        LogPartitionsAdded(_logger, added, next, target);
        return added;
    }

    /// <summary>Stops taking appends, writes the queued ones, and waits for the writers to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writers.ConfigureAwait(false);
    }

    /// <summary>Stops taking appends; the writers finish the queued ones in the background.</summary>
    public void Dispose() => _queue.Writer.TryComplete();

    /// <summary>Hex of the smallest ULID whose time is at or after <paramref name="monthStart"/> (UTC): its 6 ms bytes and 10 zero bytes.</summary>
    internal static string MonthBound(DateTime monthStart)
    {
        var ms = (long)(DateTime.SpecifyKind(monthStart, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalMilliseconds;
        return ms.ToString("X12", CultureInfo.InvariantCulture) + new string('0', 20);
    }

    private static void Validate(MySqlMessageStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException($"{MySqlMessageStoreOptions.Section}:ConnectionString is not set.");
        }

        static void Check(bool ok, string name, string rule)
        {
            if (!ok)
            {
                throw new InvalidOperationException($"{MySqlMessageStoreOptions.Section}:{name} must be {rule}.");
            }
        }

        Check(options.MaxBatchSize is >= 1 and <= 4096, nameof(options.MaxBatchSize), "1 to 4096");
        Check(options.MaxBatchBytes >= 64 * 1024, nameof(options.MaxBatchBytes), "at least 65536");
        Check(options.CompressAboveBytes >= 0, nameof(options.CompressAboveBytes), "0 or more");
        Check(options.CompressionQuality is >= 0 and <= 11, nameof(options.CompressionQuality), "0 to 11");
        Check(options.Writers is >= 1 and <= 16, nameof(options.Writers), "1 to 16");
        Check(options.QueueCapacity >= options.MaxBatchSize, nameof(options.QueueCapacity), "at least MaxBatchSize");
    }

    private static byte[] ConversationBytes(string conversationId)
    {
        // Only the canonical (upper-case) spelling: "01abc…" and "01ABC…" are different grains but the same 16 bytes.
        if (!Ulid.TryParse(conversationId, out var ulid) || !string.Equals(ulid.ToString(), conversationId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Conversation id '{conversationId}' is not a canonical ULID.", nameof(conversationId));
        }

        return ulid.ToByteArray();
    }

    private static async Task<List<ChatMessage>> ReadMessagesAsync(MySqlCommand command, string conversationId, CancellationToken cancellationToken)
    {
        var messages = new List<ChatMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            messages.Add(ReadMessage(reader, conversationId));
        }

        return messages;
    }

    private static ChatMessage ReadMessage(MySqlDataReader reader, string conversationId)
    {
        var seq = reader.GetInt64(0);
        var messageId = new Ulid(reader.GetFieldValue<byte[]>(1));
        var sender = new Sender((ParticipantRole)reader.GetByte(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
        var clientMsgId = reader.IsDBNull(5) ? null : reader.GetString(5);
        var ts = new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc));
        var text = DecodeBody(reader.GetByte(7), checked((int)reader.GetUInt32(8)), reader.GetFieldValue<byte[]>(9));
        return MessageContentColumns.Decode(
            new ChatMessage(conversationId, messageId, seq, sender, text, ts, clientMsgId),
            reader.IsDBNull(10) ? null : reader.GetByte(10),
            reader.IsDBNull(11) ? null : reader.GetFieldValue<byte[]>(11));
    }

    private static string DecodeBody(byte codec, int size, byte[] body)
    {
        switch (codec)
        {
            case CodecUtf8:
                return Utf8.GetString(body);
            case CodecBrotli:
                var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
                try
                {
                    if (!BrotliDecoder.TryDecompress(body, buffer.AsSpan(0, size), out var written) || written != size)
                    {
                        throw new InvalidDataException($"A Brotli message body does not decompress to its {size} bytes.");
                    }

                    return Utf8.GetString(buffer, 0, size);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

            default:
                throw new InvalidDataException($"Unknown message body codec {codec}.");
        }
    }

    private static bool IsRowError(MySqlException ex) => ex.ErrorCode is
        MySqlErrorCode.DuplicateKeyEntry or
        MySqlErrorCode.DataTooLong or
        MySqlErrorCode.TruncatedWrongValueForField or
        MySqlErrorCode.TruncatedWrongValue or
        MySqlErrorCode.ColumnCannotBeNull or
        MySqlErrorCode.WarningDataOutOfRange;

    /// <summary>Errors after which the whole statement or transaction was rolled back, so writing it again is safe.</summary>
    private static bool IsTransient(MySqlException ex) => ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout;

    private async ValueTask EnqueueSlowlyAsync(PendingAppend append, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(append, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            append.Abandon();
            throw new ObjectDisposedException(nameof(MySqlMessageStore));
        }
        catch (OperationCanceledException)
        {
            append.Abandon();
            throw;
        }

        await append.Completion.Task.ConfigureAwait(false);
    }

    private Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken) => MySqlConnections.OpenAsync(_options.ConnectionString, cancellationToken);

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        await using var connection = new HeldConnection(_options.ConnectionString, TimeProvider.System);
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        PendingAppend? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var bytes = 0;
            if (carried is not null)
            {
                batch.Add(carried);
                bytes = carried.Bytes;
                carried = null;
            }

            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var append))
            {
                if (!append.TryStart())
                {
                    continue; // canceled while queued
                }

                if (batch.Count > 0 && bytes + append.Bytes > _options.MaxBatchBytes)
                {
                    carried = append; // first of the next batch
                    break;
                }

                batch.Add(append);
                bytes += append.Bytes;
            }

            if (batch.Count > 0)
            {
                await WriteBatchAsync(batch, connection).ConfigureAwait(false);
                batch.Clear();
            }
        }
    }

    /// <summary>Writes and completes every append of <paramref name="batch"/>; never throws.</summary>
    private async Task WriteBatchAsync(List<PendingAppend> batch, HeldConnection held)
    {
        async Task WriteOnceAsync(MySqlConnection connection)
        {
            await using var insert = CreateInsert(connection, null, batch, 0, batch.Count);
            if (!AddEvents(insert, batch, 0, batch.Count))
            {
                await insert.ExecuteNonQueryAsync().ConfigureAwait(false); // one auto-committed statement
                return;
            }

            await MySqlEventLog.ExecuteAtomicallyAsync(insert, CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            await RetryTransientAsync(batch.Count, held, async () =>
            {
                var connection = await held.GetAsync().ConfigureAwait(false);
                try
                {
                    await WriteOnceAsync(connection).ConfigureAwait(false);
                }
                catch (Exception ex) when (held.WasReused && !(ex is MySqlException m && (IsRowError(m) || IsTransient(m))))
                {
                    // The kept connection may have died while idle (a database restart): once more on a new one. If the
                    // first attempt did commit, this one meets its own rows and each append is answered as the duplicate
                    // it is (or as a failure the grain re-reads), as after any commit whose answer was lost.
                    await held.DropAsync().ConfigureAwait(false);
                    await WriteOnceAsync(await held.GetAsync().ConfigureAwait(false)).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        catch (MySqlException ex) when (IsRowError(ex))
        {
            // The statement was rolled back as a whole; find out which rows are at fault.
            await WriteOneByOneAsync(batch, held).ConfigureAwait(false);
            return;
        }
        catch (Exception ex)
        {
            await held.DropAsync().ConfigureAwait(false);
            LogBatchFailed(_logger, ex, batch.Count);
            foreach (var append in batch)
            {
                append.Fail(ex);
            }

            return;
        }

        Committed(batch.Count);
        foreach (var append in batch)
        {
            append.Succeed();
        }
    }

    /// <summary>Each row its own INSERT inside one transaction: a row error rolls back only that statement.</summary>
    private async Task WriteOneByOneAsync(List<PendingAppend> batch, HeldConnection held)
    {
        var errors = new Exception?[batch.Count];
        try
        {
            await RetryTransientAsync(batch.Count, held, async () =>
            {
                Array.Clear(errors);
                var connection = await held.GetAsync().ConfigureAwait(false);
                await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    try
                    {
                        await using var insert = CreateInsert(connection, transaction, batch, i, 1);
                        if (batch[i].Events.Length == 0)
                        {
                            await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
                        }
                        else
                        {
                            // The message and its events are several statements: a savepoint undoes all of them together.
                            insert.CommandText = "SAVEPOINT one_append;" + insert.CommandText + ";";
                            AddEvents(insert, batch, i, 1);
                            try
                            {
                                await insert.ExecuteNonQueryAsync().ConfigureAwait(false);
                            }
                            catch (MySqlException ex) when (IsRowError(ex))
                            {
                                await using var undo = new MySqlCommand("ROLLBACK TO SAVEPOINT one_append", connection, transaction);
                                await undo.ExecuteNonQueryAsync().ConfigureAwait(false);
                                throw;
                            }
                        }
                    }
                    catch (MySqlException ex) when (IsRowError(ex))
                    {
                        errors[i] = await ExplainRowErrorAsync(connection, transaction, batch[i], ex).ConfigureAwait(false);
                    }
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await held.DropAsync().ConfigureAwait(false);
            LogBatchFailed(_logger, ex, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Fail(errors[i] ?? ex);
            }

            return;
        }

        Committed(batch.Count - errors.Count(e => e is not null));
        for (var i = 0; i < batch.Count; i++)
        {
            if (errors[i] is { } error)
            {
                batch[i].Fail(error);
            }
            else
            {
                batch[i].Succeed();
            }
        }
    }

    private async Task<Exception> ExplainRowErrorAsync(MySqlConnection connection, MySqlTransaction transaction, PendingAppend append, MySqlException error)
    {
        if (error.ErrorCode != MySqlErrorCode.DuplicateKeyEntry)
        {
            return error;
        }

        if (!error.Message.Contains(ClientKey, StringComparison.Ordinal))
        {
            LogSeqConflict(_logger, append.ConversationId, append.Seq);
            return new MessageStoreConflictException($"Conversation {append.ConversationId} already has seq {append.Seq}.");
        }

        await using var query = new MySqlCommand(SelectByClientSql, connection, transaction);
        query.Parameters.AddWithValue("@tenant", append.Tenant);
        query.Parameters.AddWithValue("@conversation", append.Conversation);
        query.Parameters.AddWithValue("@role", append.SenderRole);
        query.Parameters.AddWithValue("@sender", append.SenderId);
        query.Parameters.AddWithValue("@client", append.ClientMsgId);
        var existing = await ReadMessagesAsync(query, append.ConversationId, CancellationToken.None).ConfigureAwait(false);
        return existing.Count == 1
            ? new DuplicateClientMessageException(existing[0])
            : new MessageStoreConflictException($"Conversation {append.ConversationId} already has client message '{append.ClientMsgId}'.");
    }

    private async Task RetryTransientAsync(int count, HeldConnection held, Func<Task> write)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write().ConfigureAwait(false);
                return;
            }
            catch (MySqlException ex) when (IsTransient(ex) && attempt < MaxTransientAttempts)
            {
                // The server rolled back; retry on a connection with nothing left open.
                await held.DropAsync().ConfigureAwait(false);
                LogTransientRetry(_logger, count, ex.ErrorCode, attempt);
            }
        }
    }

    private void Committed(int appends)
    {
        Interlocked.Increment(ref _batchesWritten);
        Interlocked.Add(ref _appendsWritten, appends);
    }

    private MySqlCommand CreateInsert(MySqlConnection connection, MySqlTransaction? transaction, List<PendingAppend> batch, int start, int count)
    {
        var command = new MySqlCommand(InsertSql(count), connection, transaction);
        var parameters = command.Parameters;
        for (var i = start; i < start + count; i++)
        {
            var a = batch[i];
            parameters.Add(new MySqlParameter { Value = a.Tenant });
            parameters.Add(new MySqlParameter { Value = a.Conversation });
            parameters.Add(new MySqlParameter { Value = a.Seq });
            parameters.Add(new MySqlParameter { Value = a.MessageId });
            parameters.Add(new MySqlParameter { Value = a.SenderRole });
            parameters.Add(new MySqlParameter { Value = a.SenderId });
            parameters.Add(new MySqlParameter { Value = (object?)a.SenderName ?? DBNull.Value });
            parameters.Add(new MySqlParameter { Value = (object?)a.ClientMsgId ?? DBNull.Value });
            parameters.Add(new MySqlParameter { Value = a.CreatedAt });
            parameters.Add(new MySqlParameter { Value = a.BodyCodec });
            parameters.Add(new MySqlParameter { Value = a.BodySize });
            parameters.Add(new MySqlParameter { Value = a.Body });
            parameters.Add(new MySqlParameter { Value = a.ContentKind });
            parameters.Add(new MySqlParameter { Value = (object?)a.Content ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>
    /// Adds the outbox statements for the events of <paramref name="count"/> appends from <paramref name="start"/> to
    /// <paramref name="command"/> (the message INSERT), making its text one transaction when it is not inside one; false
    /// when those appends carry no events (the command is left as it was).
    /// </summary>
    private static bool AddEvents(MySqlCommand command, List<PendingAppend> batch, int start, int count)
    {
        var events = new List<EventRow>();
        for (var i = start; i < start + count; i++)
        {
            events.AddRange(batch[i].Events);
        }

        if (events.Count == 0)
        {
            return false;
        }

        var own = command.Transaction is null;
        var sql = new StringBuilder(own ? "START TRANSACTION;" : string.Empty).Append(command.CommandText);
        if (own)
        {
            sql.Append(';');
        }

        MySqlEventLog.AppendStatements(sql, command.Parameters, events);
        if (own)
        {
            sql.Append("COMMIT;");
        }

        command.CommandText = sql.ToString();
        return true;
    }

    private string InsertSql(int rows)
    {
        if (_insertSql[rows] is { } cached)
        {
            return cached;
        }

        var sql = new StringBuilder(InsertPrefix.Length + (rows * (RowPlaceholders.Length + 1)));
        sql.Append(InsertPrefix);
        for (var i = 0; i < rows; i++)
        {
            sql.Append(i == 0 ? string.Empty : ",").Append(RowPlaceholders);
        }

        return _insertSql[rows] = sql.ToString();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing a batch of {Count} messages failed; its appends fail")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing a batch of {Count} messages hit {Error}; retrying (attempt {Attempt})")]
    private static partial void LogTransientRetry(ILogger logger, int count, MySqlErrorCode error, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId} already has seq {Seq}; the append fails")]
    private static partial void LogSeqConflict(ILogger logger, string conversationId, long seq);

    [LoggerMessage(Level = LogLevel.Information, Message = "Added {Count} message partitions ({From:yyyy-MM} to {Through:yyyy-MM})")]
    private static partial void LogPartitionsAdded(ILogger logger, int count, DateTime from, DateTime through);

    /// <summary>One queued append, already validated and encoded, and the caller's task.</summary>
    private sealed class PendingAppend
    {
        private const int Queued = 0;
        private const int Started = 1;
        private const int Canceled = 2;

        private int _state;
        private CancellationTokenRegistration _cancellation;

        private PendingAppend(string tenant, ChatMessage message, byte[] conversation, byte bodyCodec, uint bodySize, byte[] body)
        {
            Tenant = tenant;
            ConversationId = message.ConversationId;
            Conversation = conversation;
            Seq = message.Seq;
            MessageId = message.MessageId.ToByteArray();
            SenderRole = (byte)message.Sender.Role;
            SenderId = message.Sender.Id;
            SenderName = message.Sender.Name;
            ClientMsgId = message.ClientMsgId;
            CreatedAt = message.Ts.UtcDateTime;
            BodyCodec = bodyCodec;
            BodySize = bodySize;
            Body = body;
            (ContentKind, Content) = MessageContentColumns.Encode(message.Content);
        }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Tenant { get; }

        public string ConversationId { get; }

        public byte[] Conversation { get; }

        public long Seq { get; }

        public byte[] MessageId { get; }

        public byte SenderRole { get; }

        public string SenderId { get; }

        public string? SenderName { get; }

        public string? ClientMsgId { get; }

        public DateTime CreatedAt { get; }

        public byte BodyCodec { get; }

        public uint BodySize { get; }

        public byte[] Body { get; }

        public byte ContentKind { get; }

        /// <summary>The content's JSON (kinds other than text), else null.</summary>
        public byte[]? Content { get; }

        /// <summary>The outbox rows stored in the same transaction as the message.</summary>
        public EventRow[] Events { get; set; } = [];

        public int Bytes => Body.Length + (Content?.Length ?? 0) + RowOverheadBytes + Events.Sum(e => e.Bytes);

        public static PendingAppend Create(string tenant, ChatMessage message, MySqlMessageStoreOptions options)
        {
            ArgumentNullException.ThrowIfNull(message);
            ArgumentNullException.ThrowIfNull(message.Sender, nameof(message));
            ArgumentNullException.ThrowIfNull(message.Text, nameof(message));
            CheckLength(tenant, 1, MaxTenantLength, nameof(tenant));
            CheckLength(message.Sender.Id, 1, MaxSenderIdLength, "message.Sender.Id");
            if (message.Sender.Name is { } name)
            {
                CheckLength(name, 0, MaxSenderNameLength, "message.Sender.Name");
            }

            if (message.ClientMsgId is { } clientMsgId)
            {
                CheckLength(clientMsgId, 1, MaxClientMsgIdLength, "message.ClientMsgId");
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(message.Seq, 1, "message.Seq");
            if (!Enum.IsDefined(message.Sender.Role))
            {
                throw new ArgumentOutOfRangeException(nameof(message), message.Sender.Role, "Unknown sender role.");
            }

            if (message.Ts.UtcDateTime.Year < 1000)
            {
                throw new ArgumentOutOfRangeException(nameof(message), message.Ts, "Ts is before the year 1000 (DATETIME's range).");
            }

            var conversation = ConversationBytes(message.ConversationId);
            var utf8 = Utf8.GetBytes(message.Text);
            var codec = CodecUtf8;
            var body = utf8;
            if (utf8.Length > options.CompressAboveBytes)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(utf8.Length));
                try
                {
                    if (BrotliEncoder.TryCompress(utf8, buffer, out var written, options.CompressionQuality, BrotliWindow) && written < utf8.Length)
                    {
                        codec = CodecBrotli;
                        body = buffer.AsSpan(0, written).ToArray();
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            return new PendingAppend(tenant, message, conversation, codec, (uint)utf8.Length, body);
        }

        public void WatchCancellation(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((PendingAppend)state!).TryCancel(token), this);
            }
        }

        /// <summary>Claims the append for a writer; false if it was canceled while queued.</summary>
        public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Queued) == Queued;

        public void Succeed()
        {
            _cancellation.Unregister();
            Completion.TrySetResult();
        }

        public void Fail(Exception exception)
        {
            _cancellation.Unregister();
            Completion.TrySetException(exception);
        }

        /// <summary>Never queued: stop watching the token.</summary>
        public void Abandon()
        {
            Interlocked.Exchange(ref _state, Canceled);
            _cancellation.Unregister();
        }

        private static void CheckLength(string? value, int min, int max, string name)
        {
            ArgumentNullException.ThrowIfNull(value, name);
            if (value.Length < min || value.Length > max)
            {
                throw new ArgumentException($"{name} must be {min} to {max} characters.", name);
            }
        }

        private void TryCancel(CancellationToken token)
        {
            if (Interlocked.CompareExchange(ref _state, Canceled, Queued) == Queued)
            {
                Completion.TrySetCanceled(token);
            }
        }
    }
}

/// <summary>
/// The sender already stored a message with this ClientMsgId in this conversation (a retry the grain's in-memory window
/// no longer remembers). <see cref="Existing"/> is the stored original, so a caller can answer with its ack.
/// </summary>
public sealed class DuplicateClientMessageException(ChatMessage existing)
    : Exception($"Conversation {existing.ConversationId} already has client message '{existing.ClientMsgId}' as seq {existing.Seq}.")
{
    public ChatMessage Existing { get; } = existing;
}
