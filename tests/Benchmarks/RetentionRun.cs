using System.Diagnostics;
using System.Globalization;
using System.Text;
using HdrHistogram;
using Kefu.Contracts.Messages;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>retention</c>: does pruning a tenant's old messages slow the appends of new ones? (docs/performance.md
/// "Retention".) On a database with deploy/mysql applied: a backlog of old messages of one tenant, then concurrent
/// writers append to that same tenant's new conversations through <see cref="MySqlMessageStore"/> for a while without
/// pruning (baseline), then as long again while the retention holder's loop deletes the backlog in chunks with its pause.
/// Compares append latency (p50, p99) and throughput, and reports the prune rate.
/// </summary>
public static class RetentionRun
{
    public const string Usage = """
        retention mode: dotnet run -c Release --project tests/Benchmarks -- retention [options]
          --mysql CS         connection string of a database with deploy/mysql applied (default: $KEFU_MYSQL)
          --backlog N        old messages to prune (default 200000, in conversations of 100)
          --writers N        concurrent writers, one conversation each (default 16)
          --seconds N        length of each phase (default 20)
          --chunk N          rows per prune call (default 500), --pause-ms N between chunks (default 250)
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var cs = BenchHost.Arg(args, "--mysql") ?? Environment.GetEnvironmentVariable("KEFU_MYSQL") ?? throw new ArgumentException("--mysql or KEFU_MYSQL is required.");
        var backlog = Int(args, "--backlog", 200_000);
        var writers = Int(args, "--writers", 16);
        var seconds = Int(args, "--seconds", 20);
        var chunk = Int(args, "--chunk", 500);
        var pause = TimeSpan.FromMilliseconds(Int(args, "--pause-ms", 250));
        var tenant = "bench-ret-" + Guid.NewGuid().ToString("N")[..8];

        var fill = Stopwatch.StartNew();
        await FillBacklogAsync(cs, tenant, backlog, cancellationToken);
        Console.WriteLine($"backlog: {backlog} old messages of {tenant} in {fill.Elapsed.TotalSeconds:F1} s");

        await using var store = new MySqlMessageStore(Options.Create(new MySqlMessageStoreOptions { ConnectionString = cs }), NullLogger<MySqlMessageStore>.Instance);
        await AppendPhaseAsync(store, tenant, writers, TimeSpan.FromSeconds(3), cancellationToken); // warm-up
        var baseline = await AppendPhaseAsync(store, tenant, writers, TimeSpan.FromSeconds(seconds), cancellationToken);

        using var stopPruning = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long pruned = 0;
        var pruneClock = Stopwatch.StartNew();
        var pruner = Task.Run(async () =>
        {
            var cutoff = DateTimeOffset.UtcNow.AddDays(-30);
            while (!stopPruning.IsCancellationRequested)
            {
                var n = await store.PruneAsync(tenant, cutoff, chunk, stopPruning.Token);
                Interlocked.Add(ref pruned, n);
                if (n < chunk)
                {
                    break;
                }

                await Task.Delay(pause, stopPruning.Token);
            }

            pruneClock.Stop();
        }, CancellationToken.None);
        var during = await AppendPhaseAsync(store, tenant, writers, TimeSpan.FromSeconds(seconds), cancellationToken);
        await stopPruning.CancelAsync();
        try
        {
            await pruner;
        }
        catch (OperationCanceledException)
        {
        }

        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"retention: {writers} writers appending to tenant {tenant} for {seconds} s per phase; backlog {backlog} old messages; prune chunks of {chunk}, pause {pause.TotalMilliseconds} ms; {Environment.ProcessorCount} cores");
        report.AppendLine();
        report.AppendLine("| phase | appends/s | p50 ms | p99 ms | max ms |");
        report.AppendLine("|---|---|---|---|---|");
        foreach (var (name, r) in new[] { ("appends alone", baseline), ("appends while pruning", during) })
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {r.Count / r.Seconds:F0} | {Ms(r.Histogram, 50)} | {Ms(r.Histogram, 99)} | {r.Histogram.GetMaxValue() / 1000.0:F1} |");
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"pruned {pruned} rows in {pruneClock.Elapsed.TotalSeconds:F1} s ({pruned / Math.Max(0.001, pruneClock.Elapsed.TotalSeconds):F0} rows/s, pauses included)");
        Console.WriteLine(report);
        return 0;
    }

    private static async Task FillBacklogAsync(string cs, string tenant, int count, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(cs);
        await connection.OpenAsync(cancellationToken);
        var old = DateTimeOffset.UtcNow.AddDays(-400);
        const int PerConversation = 100;
        const int Batch = 1000;
        var body = Encoding.UTF8.GetBytes("an old message that retention will delete");
        for (var start = 0; start < count; start += Batch)
        {
            var sql = new StringBuilder("INSERT INTO kefu_message (tenant, conversation_id, seq, message_id, sender_role, sender_id, created_at, body_codec, body_size, body) VALUES ");
            await using var insert = new MySqlCommand { Connection = connection };
            insert.Parameters.AddWithValue("@t", tenant);
            insert.Parameters.AddWithValue("@b", body);
            insert.Parameters.AddWithValue("@at", old.UtcDateTime);
            var n = Math.Min(Batch, count - start);
            for (var i = 0; i < n; i++)
            {
                var index = start + i;
                var conversation = Ulid.NewUlid(old.AddSeconds(index / PerConversation), Seed(tenant, index / PerConversation)).ToByteArray();
                var p = "@c" + i.ToString(CultureInfo.InvariantCulture);
                insert.Parameters.AddWithValue(p, conversation);
                sql.Append(i == 0 ? string.Empty : ",").Append(CultureInfo.InvariantCulture,
                    $"(@t,{p},{(index % PerConversation) + 1},UNHEX(REPLACE(UUID(),'-','')),0,'v',@at,0,{body.Length},@b)");
            }

            insert.CommandText = sql.ToString();
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static byte[] Seed(string tenant, int conversation)
    {
        var bytes = new byte[10];
        BitConverter.TryWriteBytes(bytes, conversation);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), tenant.GetHashCode(StringComparison.Ordinal));
        return bytes;
    }

    private static async Task<(LongHistogram Histogram, long Count, double Seconds)> AppendPhaseAsync(
        MySqlMessageStore store, string tenant, int writers, TimeSpan length, CancellationToken cancellationToken)
    {
        var histogram = new LongHistogram(60_000_000, 3);
        var until = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        long count = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var conversation = Ulid.NewUlid().ToString();
            var sender = new Sender(ParticipantRole.Visitor, "v" + w.ToString(CultureInfo.InvariantCulture), null);
            for (long seq = 1; Stopwatch.GetTimestamp() < until; seq++)
            {
                var started = Stopwatch.GetTimestamp();
                await store.AppendAsync(tenant, new ChatMessage(conversation, Ulid.NewUlid(), seq, sender, "a new message " + seq.ToString(CultureInfo.InvariantCulture), DateTimeOffset.UtcNow, null), cancellationToken);
                var micros = (Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency;
                lock (histogram)
                {
                    histogram.RecordValue(micros);
                }

                Interlocked.Increment(ref count);
            }
        }, cancellationToken)));
        return (histogram, count, clock.Elapsed.TotalSeconds);
    }

    private static string Ms(LongHistogram histogram, double percentile) =>
        (histogram.GetValueAtPercentile(percentile) / 1000.0).ToString("F2", CultureInfo.InvariantCulture);

    private static int Int(string[] args, string name, int fallback) =>
        int.Parse(BenchHost.Arg(args, name) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
