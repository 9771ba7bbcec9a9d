using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>history</c> (issue #21 item 4, docs/performance.md "History at scale"): bulk-loads N messages over M conversations
/// into the real <c>kefu_message</c> table (partitioned by the conversation ULID's month, bodies over
/// <see cref="MySqlMessageStoreOptions.CompressAboveBytes"/> Brotli-compressed, as the store writes them) and the same
/// rows into a plain copy (same columns and keys, no partitioning, bodies uncompressed), then times the history reads
/// through <see cref="MySqlMessageStore"/> against the same SQL on the plain table, and reports disk bytes per message.
/// The reads are repeated <c>--passes</c> times over the one load (issue #21 item 6: each figure is the median of the
/// passes with the range, so one noisy pass does not make the table); every pass reads other random conversations.
/// Needs a database with deploy/mysql applied (<c>eval "$(scripts/mariadb.sh start)"</c>: KEFU_MYSQL).
/// </summary>
public static class HistoryRun
{
    public const string Usage = """
        history mode: dotnet run -c Release --project tests/Benchmarks -- history [options]
          --messages N       messages to load (default 10000000)
          --conversations N  conversations they belong to (default 100000; at least 2 messages each)
          --queries N        timed reads of each kind on each table (default 2000)
          --connections N    parallel bulk-load connections (default 2)
          --mysql CS         connection string of a database with deploy/mysql applied (default: $KEFU_MYSQL)
          --passes N         times the read measurement is repeated after the one load; each figure is the median of
                             the passes with (min–max) (default 3)
          --result FILE.json write the whole result (every pass, the medians and ranges) as JSON
          --keep             keep the loaded rows and the plain table (default: both removed at the end)
        """;

    /// <summary>Messages per page: the newest page and the deep page read this many (the console's page size).</summary>
    public const int PageSize = 50;

    /// <summary>How far back the deep page is: 50 pages before the newest.</summary>
    public const int DeepPages = 50;

    /// <summary>The sync read's limit: the conversation grain's largest page (ConversationGrain.MaxPage).</summary>
    public const int SyncLimit = 500;

    // The store's table (MySqlMessageStore.Table, internal to the grains assembly).
    private const string MessageTable = "kefu_message";

    // The store's Brotli window (MySqlMessageStore.BrotliWindow, private): the bench writes bodies exactly as the store would.
    private const int BrotliWindow = 22;
    private const int RowsPerChunk = 20_000;

    private static readonly string[] Words =
    [
        "hello", "hi", "thanks", "thank", "you", "please", "order", "delivery", "refund", "invoice", "account", "password",
        "reset", "the", "a", "my", "your", "is", "was", "not", "working", "since", "yesterday", "today", "can", "could",
        "help", "me", "with", "this", "that", "package", "tracking", "number", "address", "change", "cancel", "subscription",
        "plan", "price", "discount", "code", "payment", "card", "failed", "error", "message", "app", "update", "version",
        "login", "email", "phone", "sorry", "for", "the", "inconvenience", "I", "will", "check", "it", "now", "one",
        "moment", "please", "let", "know", "if", "anything", "else", "great", "ok", "sure", "when", "arrive", "shipped",
        "warehouse", "courier", "store", "size", "colour", "exchange", "return", "label", "receipt", "screenshot",
        "您好", "请问", "订单", "退款", "谢谢", "物流", "已经", "发货", "客服", "稍等",
    ];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = new HistoryOptions(
            ConnectionString: BenchHost.Arg(args, "--mysql") ?? Environment.GetEnvironmentVariable("KEFU_MYSQL")
                ?? throw new ArgumentException("--mysql or KEFU_MYSQL is required."),
            Messages: long.Parse(BenchHost.Arg(args, "--messages") ?? "10000000", CultureInfo.InvariantCulture),
            Conversations: int.Parse(BenchHost.Arg(args, "--conversations") ?? "100000", CultureInfo.InvariantCulture),
            Queries: int.Parse(BenchHost.Arg(args, "--queries") ?? "2000", CultureInfo.InvariantCulture),
            Connections: int.Parse(BenchHost.Arg(args, "--connections") ?? "2", CultureInfo.InvariantCulture),
            Keep: args.Contains("--keep"),
            Passes: int.Parse(BenchHost.Arg(args, "--passes") ?? "3", CultureInfo.InvariantCulture));
        var result = await RunAsync(options, Console.WriteLine, cancellationToken);
        Console.WriteLine();
        Console.WriteLine(result.Markdown());
        if (BenchHost.Arg(args, "--result") is { } path)
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, JsonSerializer.Serialize(result, BenchmarkRunner.Json), CancellationToken.None);
        }

        return result.CountPartitioned == options.Messages && result.CountPlain == options.Messages ? 0 : 1;
    }

    public static async Task<HistoryResult> RunAsync(HistoryOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        if (options.Conversations < 1 || options.Messages < 2L * options.Conversations)
        {
            throw new ArgumentException("--messages must be at least 2 × --conversations.");
        }

        if (options.Queries < 1 || options.Connections is < 1 or > 16 || options.Passes is < 1 or > 100)
        {
            throw new ArgumentException("--queries must be at least 1, --connections 1 to 16 and --passes 1 to 100.");
        }

        var runId = Guid.NewGuid().ToString("N")[..10];
        var tenant = "bench-history-" + runId;
        var plain = "kefu_bench_history_plain_" + runId;
        var layout = Layout.Create(options.Messages, options.Conversations, DateTimeOffset.UtcNow);
        var bulkConnection = new MySqlConnectionStringBuilder(options.ConnectionString) { AllowLoadLocalInfile = true }.ConnectionString;

        try
        {
            // Same columns and keys as the product's table (whatever later scripts added), only the partitioning removed.
            await ExecuteAsync(options.ConnectionString, $"CREATE TABLE `{plain}` LIKE {MessageTable}", cancellationToken);
            await ExecuteAsync(options.ConnectionString, $"ALTER TABLE `{plain}` REMOVE PARTITIONING", cancellationToken);
            var bytesBefore = await TableBytesAsync(options.ConnectionString, MessageTable, cancellationToken);
            log($"history: tenant {tenant}, {options.Messages} messages over {options.Conversations} conversations ({layout.LongConversations} long ones of {layout.LongLength}), {options.Connections} connections");
            var compression = new CompressionTally();
            var loadPartitioned = await LoadAsync(bulkConnection, MessageTable, tenant, layout, compress: true, compression, options.Connections, cancellationToken);
            log(string.Create(CultureInfo.InvariantCulture, $"  {MessageTable}: loaded in {loadPartitioned:0.0} s ({options.Messages / loadPartitioned:0} rows/s)"));
            var loadPlain = await LoadAsync(bulkConnection, plain, tenant, layout, compress: false, new CompressionTally(), options.Connections, cancellationToken);
            log(string.Create(CultureInfo.InvariantCulture, $"  {plain}: loaded in {loadPlain:0.0} s ({options.Messages / loadPlain:0} rows/s)"));

            var (countPartitioned, rawBody, storedBody, brotliRows) = await BodyTallyAsync(options.ConnectionString, MessageTable, tenant, cancellationToken);
            var (countPlain, _, plainBody, _) = await BodyTallyAsync(options.ConnectionString, plain, tenant, cancellationToken);
            await ExecuteAsync(options.ConnectionString, $"ANALYZE TABLE {MessageTable}, `{plain}`", cancellationToken);
            var bytesPartitioned = await TableBytesAsync(options.ConnectionString, MessageTable, cancellationToken) - bytesBefore;
            var bytesPlain = await TableBytesAsync(options.ConnectionString, plain, cancellationToken);
            var partitions = await PartitionsWithRowsAsync(options.ConnectionString, cancellationToken);
            log($"  rows: {countPartitioned} partitioned ({partitions} partitions hold rows), {countPlain} plain; {brotliRows} bodies Brotli-compressed");

            var passes = await QueryAsync(options, tenant, plain, layout, log, cancellationToken);
            return new HistoryResult(
                tenant, plain, options.Messages, options.Conversations, loadPartitioned, loadPlain, countPartitioned, countPlain, partitions,
                passes, (double)bytesPartitioned / options.Messages, (double)bytesPlain / options.Messages,
                rawBody, storedBody, plainBody, brotliRows, compression.RawBytesOfCompressed, compression.StoredBytesOfCompressed);
        }
        finally
        {
            if (!options.Keep)
            {
                var watch = Stopwatch.StartNew();
                await ExecuteAsync(options.ConnectionString, $"DROP TABLE IF EXISTS `{plain}`", CancellationToken.None);
                await DeleteTenantAsync(options.ConnectionString, tenant);
                log(string.Create(CultureInfo.InvariantCulture, $"  removed the plain table and the tenant's rows in {watch.Elapsed.TotalSeconds:0.0} s"));
            }
            else
            {
                log($"  kept: tenant {tenant} in {MessageTable}, table {plain}");
            }
        }
    }

    private static async Task<IReadOnlyList<IReadOnlyList<QueryStats>>> QueryAsync(
        HistoryOptions options, string tenant, string plain, Layout layout, Action<string> log, CancellationToken cancellationToken)
    {
        // The product's read path: the store the silo uses (its own pooled connection per read, decoding every body).
        await using var store = new MySqlMessageStore(
            Options.Create(new MySqlMessageStoreOptions { ConnectionString = options.ConnectionString }), NullLogger<MySqlMessageStore>.Instance);
        var plainReader = new PlainReader(options.ConnectionString, plain);
        var random = new Random(7);
        var deepCandidates = Enumerable.Range(0, layout.Ids.Length).Where(i => layout.Counts[i] >= 2 * PageSize).ToArray();
        if (deepCandidates.Length == 0)
        {
            deepCandidates = [Array.IndexOf(layout.Counts, layout.Counts.Max())];
        }

        var kinds = new (string Name, Func<int> Pick, Func<int, (long After, int Limit, bool Newest)> Read)[]
        {
            ("newest page", () => random.Next(layout.Ids.Length), _ => (0, PageSize, true)),
            ($"deep page ({DeepPages} pages back)", () => deepCandidates[random.Next(deepCandidates.Length)], i =>
            {
                var back = Math.Min(DeepPages, (layout.Counts[i] / PageSize) - 1);
                return (Math.Max(0, layout.Counts[i] - ((back + 1L) * PageSize)), PageSize, false);
            }),
            ($"sync after an old seq (≤ {SyncLimit})", () => random.Next(layout.Ids.Length), i => (random.Next(Math.Max(1, layout.Counts[i] / 10)), SyncLimit, false)),
        };

        var passes = new List<IReadOnlyList<QueryStats>>();
        for (var pass = 0; pass < options.Passes; pass++)
        {
            // One Random over all passes: each pass reads other conversations (not the rows the previous pass just cached).
            passes.Add(await QueryPassAsync(kinds, options.Queries, store, plainReader, tenant, layout, cancellationToken));
            foreach (var s in passes[^1])
            {
                log(string.Create(CultureInfo.InvariantCulture,
                    $"  pass {pass + 1}/{options.Passes}, {s.Name}: kefu_message p50 {s.P50Partitioned:0.000} ms p99 {s.P99Partitioned:0.000} ms; plain p50 {s.P50Plain:0.000} ms p99 {s.P99Plain:0.000} ms; rows {s.RowsPartitioned} / {s.RowsPlain}"));
            }
        }

        return passes;
    }

    private static async Task<IReadOnlyList<QueryStats>> QueryPassAsync(
        (string Name, Func<int> Pick, Func<int, (long After, int Limit, bool Newest)> Read)[] kinds, int queries, MySqlMessageStore store,
        PlainReader plainReader, string tenant, Layout layout, CancellationToken cancellationToken)
    {
        var stats = new List<QueryStats>();
        foreach (var (name, pick, read) in kinds)
        {
            var warm = Math.Min(100, queries);
            List<double> kefu = [], flat = [];
            long rowsKefu = 0, rowsPlain = 0;
            for (var q = 0; q < warm + queries; q++)
            {
                var i = pick();
                var (after, limit, newest) = read(i);
                var id = layout.Ids[i].ToString();
                // Alternate which table goes first, so neither always reads right after the other warmed the CPU caches.
                for (var side = 0; side < 2; side++)
                {
                    var partitioned = (side == 0) == (q % 2 == 0);
                    var watch = Stopwatch.StartNew();
                    var rows = partitioned
                        ? (newest ? await store.ReadLatestAsync(tenant, id, limit, cancellationToken) : await store.ReadAfterAsync(tenant, id, after, limit, cancellationToken)).Count
                        : await plainReader.ReadAsync(tenant, layout.Ids[i].ToByteArray(), after, limit, newest, cancellationToken);
                    var ms = watch.Elapsed.TotalMilliseconds;
                    if (q < warm)
                    {
                        continue;
                    }

                    (partitioned ? kefu : flat).Add(ms);
                    if (partitioned)
                    {
                        rowsKefu += rows;
                    }
                    else
                    {
                        rowsPlain += rows;
                    }
                }
            }

            var s = new QueryStats(name, Percentile(kefu, 0.50), Percentile(kefu, 0.99), Percentile(flat, 0.50), Percentile(flat, 0.99), rowsKefu, rowsPlain);
            stats.Add(s);
        }

        return stats;
    }

    private static double Percentile(List<double> values, double q)
    {
        values.Sort();
        return values[Math.Clamp((int)Math.Ceiling(q * values.Count) - 1, 0, values.Count - 1)];
    }

    /// <summary>Loads the tenant's rows with LOAD DATA LOCAL INFILE (MySqlBulkCopy), chunks of conversations in primary-key order.</summary>
    private static async Task<double> LoadAsync(string connectionString, string table, string tenant, Layout layout, bool compress,
        CompressionTally tally, int connections, CancellationToken cancellationToken)
    {
        var chunks = layout.Chunks(RowsPerChunk);
        var next = -1;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            int c;
            while ((c = Interlocked.Increment(ref next)) < chunks.Count)
            {
                var (from, to) = chunks[c];
                using var rows = Rows(tenant, layout, from, to, compress, tally);
                var copy = new MySqlBulkCopy(connection) { DestinationTableName = table, BulkCopyTimeout = 0 };
                foreach (var (column, ordinal) in Columns.Select((name, ordinal) => (name, ordinal)))
                {
                    copy.ColumnMappings.Add(new MySqlBulkCopyColumnMapping(ordinal, column));
                }

                var written = await copy.WriteToServerAsync(rows, cancellationToken);
                if (written.RowsInserted != rows.Rows.Count || written.Warnings.Count > 0)
                {
                    throw new InvalidOperationException($"{table}: {written.RowsInserted} of {rows.Rows.Count} rows inserted, {written.Warnings.Count} warnings (first: {written.Warnings.FirstOrDefault()?.Message}).");
                }
            }
        }, cancellationToken)));
        return watch.Elapsed.TotalSeconds;
    }

    private static readonly string[] Columns =
    [
        "tenant", "conversation_id", "seq", "message_id", "sender_role", "sender_id", "sender_name", "client_msg_id",
        "created_at", "body_codec", "body_size", "body", "content_kind", "content",
    ];

    /// <summary>The rows of conversations [from, to): the same for both tables (seeded per conversation), only the body codec differs.</summary>
    private static DataTable Rows(string tenant, Layout layout, int from, int to, bool compress, CompressionTally tally)
    {
        var table = new DataTable();
        table.Columns.Add("tenant", typeof(string));
        table.Columns.Add("conversation_id", typeof(byte[]));
        table.Columns.Add("seq", typeof(long));
        table.Columns.Add("message_id", typeof(byte[]));
        table.Columns.Add("sender_role", typeof(byte));
        table.Columns.Add("sender_id", typeof(string));
        table.Columns.Add("sender_name", typeof(string));
        table.Columns.Add("client_msg_id", typeof(string));
        table.Columns.Add("created_at", typeof(DateTime));
        table.Columns.Add("body_codec", typeof(byte));
        table.Columns.Add("body_size", typeof(uint));
        table.Columns.Add("body", typeof(byte[]));
        table.Columns.Add("content_kind", typeof(byte));
        table.Columns.Add("content", typeof(byte[]));
        var defaults = new MySqlMessageStoreOptions();
        var text = new StringBuilder();
        for (var i = from; i < to; i++)
        {
            var random = new Random(i + 1);
            var conversation = layout.Ids[i].ToByteArray();
            var at = layout.Ids[i].Time;
            var visitor = "v-" + i.ToString(CultureInfo.InvariantCulture);
            var agent = "agent-" + random.Next(40).ToString(CultureInfo.InvariantCulture);
            var randomness = new byte[10];
            for (var seq = 1L; seq <= layout.Counts[i]; seq++)
            {
                at = at.AddMilliseconds(random.Next(2_000, 120_000));
                random.NextBytes(randomness);
                var fromVisitor = random.Next(2) == 0;
                var utf8 = Encoding.UTF8.GetBytes(Text(random, text));
                byte codec = 0;
                var body = utf8;
                // The store's rule (MySqlMessageStore.PendingAppend.Create): Brotli above CompressAboveBytes when smaller.
                if (compress && utf8.Length > defaults.CompressAboveBytes)
                {
                    var buffer = new byte[BrotliEncoder.GetMaxCompressedLength(utf8.Length)];
                    if (BrotliEncoder.TryCompress(utf8, buffer, out var written, defaults.CompressionQuality, BrotliWindow) && written < utf8.Length)
                    {
                        codec = 1;
                        body = buffer[..written];
                        tally.Add(utf8.Length, written);
                    }
                }

                table.Rows.Add(
                    tenant, conversation, seq, Ulid.NewUlid(at, randomness).ToByteArray(), (byte)(fromVisitor ? 0 : 1),
                    fromVisitor ? visitor : agent, fromVisitor ? "Visitor " + i.ToString(CultureInfo.InvariantCulture) : "Agent",
                    fromVisitor ? "c-" + seq.ToString(CultureInfo.InvariantCulture) : DBNull.Value, at.UtcDateTime, codec,
                    (uint)utf8.Length, body, (byte)0, DBNull.Value);
            }
        }

        return table;
    }

    /// <summary>Chat-sized text: mostly 3–40 words, 3 % long (≈1.5–6 KB: pasted logs, e-mails) that the store compresses.</summary>
    private static string Text(Random random, StringBuilder text)
    {
        text.Clear();
        var words = random.Next(100) < 3 ? random.Next(250, 1000) : random.Next(3, 40);
        for (var w = 0; w < words; w++)
        {
            if (w > 0)
            {
                text.Append(' ');
            }

            if (random.Next(30) == 0)
            {
                text.Append('#').Append(random.Next(10_000_000, 99_999_999));
            }
            else
            {
                text.Append(Words[random.Next(Words.Length)]);
            }
        }

        return text.ToString();
    }

    private static async Task<(long Count, long RawBody, long StoredBody, long BrotliRows)> BodyTallyAsync(
        string connectionString, string table, string tenant, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            $"SELECT COUNT(*), COALESCE(SUM(body_size), 0), COALESCE(SUM(LENGTH(body)), 0), COALESCE(SUM(body_codec = 1), 0) FROM `{table}` WHERE tenant = @tenant", connection)
        {
            CommandTimeout = 0,
        };
        command.Parameters.AddWithValue("@tenant", tenant);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture),
            Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture));
    }

    private static async Task<long> TableBytesAsync(string connectionString, string table, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table", connection);
        command.Parameters.AddWithValue("@table", table);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static async Task<int> PartitionsWithRowsAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = @table AND TABLE_ROWS > 0", connection);
        command.Parameters.AddWithValue("@table", MessageTable);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private static async Task DeleteTenantAsync(string connectionString, string tenant)
    {
        // Chunks: one huge DELETE would hold its locks and undo log for minutes.
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand($"DELETE FROM {MessageTable} WHERE tenant = @tenant LIMIT 50000", connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue("@tenant", tenant);
        while (await command.ExecuteNonQueryAsync() > 0)
        {
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken); // ANALYZE TABLE answers with rows
        while (await reader.ReadAsync(cancellationToken))
        {
        }
    }

    /// <summary>The same SQL as the store's reads, on the plain table; every body read and decoded the same way.</summary>
    private sealed class PlainReader(string connectionString, string table)
    {
        private const string Columns = "SELECT seq, message_id, sender_role, sender_id, sender_name, client_msg_id, created_at, body_codec, body_size, body, content_kind, content FROM ";
        private readonly string _after = Columns + $"`{table}` WHERE tenant = @tenant AND conversation_id = @conversation AND seq > @after ORDER BY seq LIMIT @limit";
        private readonly string _latest = Columns + $"`{table}` WHERE tenant = @tenant AND conversation_id = @conversation ORDER BY seq DESC LIMIT @limit";

        public async Task<int> ReadAsync(string tenant, byte[] conversation, long after, int limit, bool newest, CancellationToken cancellationToken)
        {
            await using var connection = new MySqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new MySqlCommand(newest ? _latest : _after, connection);
            command.Parameters.AddWithValue("@tenant", tenant);
            command.Parameters.AddWithValue("@conversation", conversation);
            command.Parameters.AddWithValue("@after", after);
            command.Parameters.AddWithValue("@limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = 0;
            while (await reader.ReadAsync(cancellationToken))
            {
                _ = (reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetByte(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetDateTime(6), reader.GetByte(7), reader.GetUInt32(8),
                    Encoding.UTF8.GetString(reader.GetFieldValue<byte[]>(9)), reader.IsDBNull(10) ? (byte?)null : reader.GetByte(10));
                rows++;
            }

            return rows;
        }
    }

    private sealed class CompressionTally
    {
        private long _raw;
        private long _stored;

        public long RawBytesOfCompressed => Interlocked.Read(ref _raw);

        public long StoredBytesOfCompressed => Interlocked.Read(ref _stored);

        public void Add(long raw, long stored)
        {
            Interlocked.Add(ref _raw, raw);
            Interlocked.Add(ref _stored, stored);
        }
    }

    /// <summary>
    /// Conversation ids (ULIDs created over the last 365 days, so about 13 monthly partitions) in primary-key order and
    /// their lengths: every 100th conversation is long (up to 3 000 messages, 30 % of all messages) so a page 50 pages
    /// back exists; the others share the rest, 0.5×–1.5× the mean each.
    /// </summary>
    private sealed record Layout(Ulid[] Ids, int[] Counts, int LongConversations, int LongLength)
    {
        public static Layout Create(long messages, int conversations, DateTimeOffset now)
        {
            var random = new Random(42);
            var randomness = new byte[10];
            var ids = new Ulid[conversations];
            for (var i = 0; i < conversations; i++)
            {
                random.NextBytes(randomness);
                ids[i] = Ulid.NewUlid(now.AddSeconds(-random.NextDouble() * 365 * 86_400), randomness);
            }

            // Byte order is the primary key's order: each load chunk appends to its own key range.
            Array.Sort(ids, (a, b) => a.ToByteArray().AsSpan().SequenceCompareTo(b.ToByteArray()));
            var counts = new int[conversations];
            var longOnes = Math.Max(1, conversations / 100);
            var longLength = (int)Math.Min(3_000, Math.Max(2, messages * 3 / 10 / longOnes));
            var rest = messages - ((long)longOnes * longLength);
            var shortOnes = conversations - longOnes;
            if (shortOnes > 0 && rest < 2L * shortOnes)
            {
                longLength = 2;
                rest = messages - (2L * longOnes);
            }

            var weights = new double[conversations];
            var sum = 0.0;
            for (var i = 0; i < conversations; i++)
            {
                if (i % 100 != 0 || i / 100 >= longOnes)
                {
                    weights[i] = 0.5 + random.NextDouble();
                    sum += weights[i];
                }
            }

            long assigned = 0;
            for (var i = 0; i < conversations; i++)
            {
                counts[i] = weights[i] == 0 ? longLength : Math.Max(2, (int)((rest - (2L * shortOnes)) * weights[i] / sum) + 2);
                assigned += counts[i];
            }

            // Rounding: add or take the difference one message at a time, round robin over the short conversations.
            for (var i = 0; assigned != messages; i = (i + 1) % conversations)
            {
                if (shortOnes > 0 && weights[i] == 0)
                {
                    continue;
                }

                if (assigned < messages)
                {
                    counts[i]++;
                    assigned++;
                }
                else if (counts[i] > 2)
                {
                    counts[i]--;
                    assigned--;
                }
            }

            return new Layout(ids, counts, longOnes, longLength);
        }

        public List<(int From, int To)> Chunks(int rows)
        {
            var chunks = new List<(int, int)>();
            var start = 0;
            long size = 0;
            for (var i = 0; i < Ids.Length; i++)
            {
                size += Counts[i];
                if (size >= rows || i == Ids.Length - 1)
                {
                    chunks.Add((start, i + 1));
                    start = i + 1;
                    size = 0;
                }
            }

            return chunks;
        }
    }
}

public sealed record HistoryOptions(string ConnectionString, long Messages, int Conversations, int Queries, int Connections, bool Keep, int Passes = 3);

/// <summary>One read kind's figures in one pass.</summary>
public sealed record QueryStats(string Name, double P50Partitioned, double P99Partitioned, double P50Plain, double P99Plain, long RowsPartitioned, long RowsPlain);

/// <summary>A figure over several passes: the median (the mean of the middle two for an even count) and the range.</summary>
public sealed record Figure(double Median, double Min, double Max)
{
    public static Figure Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("A figure needs at least one value.", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return new Figure(sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, sorted[0], sorted[^1]);
    }

    /// <summary>"median (min–max)", or the median alone when the range is one value (a single pass).</summary>
    public string Format(string format, string unit) =>
        Min == Max
            ? string.Create(CultureInfo.InvariantCulture, $"{Median.ToString(format, CultureInfo.InvariantCulture)}{unit}")
            : string.Create(CultureInfo.InvariantCulture, $"{Median.ToString(format, CultureInfo.InvariantCulture)}{unit} ({Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)})");
}

/// <summary>One read kind over all passes: each figure the median of the passes with the range; rows summed over the passes.</summary>
public sealed record QuerySummary(
    string Name, Figure P50Partitioned, Figure P99Partitioned, Figure P50Plain, Figure P99Plain, Figure PlainOverKefuP50, long RowsPartitioned, long RowsPlain)
{
    public static IReadOnlyList<QuerySummary> Of(IReadOnlyList<IReadOnlyList<QueryStats>> passes) =>
        passes.Count == 0
            ? []
            : passes[0].Select((first, k) =>
            {
                var kind = passes.Select(p => p[k]).ToArray();
                return new QuerySummary(
                    first.Name,
                    Figure.Of(kind.Select(q => q.P50Partitioned).ToArray()),
                    Figure.Of(kind.Select(q => q.P99Partitioned).ToArray()),
                    Figure.Of(kind.Select(q => q.P50Plain).ToArray()),
                    Figure.Of(kind.Select(q => q.P99Plain).ToArray()),
                    // The ratio per pass, then its median: both tables were read in the same pass, under the same load.
                    Figure.Of(kind.Select(q => q.P50Plain / q.P50Partitioned).ToArray()),
                    kind.Sum(q => q.RowsPartitioned),
                    kind.Sum(q => q.RowsPlain));
            }).ToArray();
}

public sealed record HistoryResult(
    string Tenant, string PlainTable, long Messages, int Conversations, double LoadSecondsPartitioned, double LoadSecondsPlain, long CountPartitioned, long CountPlain,
    int PartitionsWithRows, IReadOnlyList<IReadOnlyList<QueryStats>> Passes, double BytesPerMessagePartitioned, double BytesPerMessagePlain,
    long BodyBytesRaw, long BodyBytesStored, long BodyBytesPlain, long BrotliRows, long RawBytesOfCompressed, long StoredBytesOfCompressed)
{
    /// <summary>Each read kind's figures as the median of the passes with the range (in the JSON too).</summary>
    public IReadOnlyList<QuerySummary> Summary => QuerySummary.Of(Passes);

    public string Markdown()
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(inv, $"{Messages:N0} messages, {Conversations:N0} conversations; load {Messages / LoadSecondsPartitioned:N0} rows/s (kefu_message), {Messages / LoadSecondsPlain:N0} rows/s (plain)");
        md.AppendLine(inv, $"Reads: each figure is the median of {Passes.Count} pass{(Passes.Count == 1 ? "" : "es")} over the one load (min–max); rows summed over the passes.");
        md.AppendLine();
        md.AppendLine("| read | kefu_message p50 | p99 | plain p50 | p99 | plain ÷ kefu (p50) | rows (kefu / plain) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var q in Summary)
        {
            md.AppendLine(inv, $"| {q.Name} | {q.P50Partitioned.Format("0.00", " ms")} | {q.P99Partitioned.Format("0.00", " ms")} | {q.P50Plain.Format("0.00", " ms")} | {q.P99Plain.Format("0.00", " ms")} | {q.PlainOverKefuP50.Format("0.00", "×")} | {q.RowsPartitioned} / {q.RowsPlain} |");
        }

        md.AppendLine();
        md.AppendLine(inv, $"| disk | kefu_message | plain |");
        md.AppendLine("|---|---:|---:|");
        md.AppendLine(inv, $"| bytes per message (data + indexes) | {BytesPerMessagePartitioned:0} | {BytesPerMessagePlain:0} |");
        md.AppendLine(inv, $"| body bytes per message | {(double)BodyBytesStored / Messages:0} | {(double)BodyBytesPlain / Messages:0} |");
        md.AppendLine();
        md.AppendLine(inv, $"Brotli: {BrotliRows:N0} bodies ({100.0 * BrotliRows / Messages:0.0} %) compressed from {RawBytesOfCompressed:N0} to {StoredBytesOfCompressed:N0} bytes ({(RawBytesOfCompressed == 0 ? 0 : 100.0 * (1 - ((double)StoredBytesOfCompressed / RawBytesOfCompressed))):0.0} % saved); the body column as a whole {BodyBytesRaw:N0} → {BodyBytesStored:N0} bytes ({(BodyBytesRaw == 0 ? 0 : 100.0 * (1 - ((double)BodyBytesStored / BodyBytesRaw))):0.0} % saved).");
        return md.ToString();
    }
}
