using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kefu.Contracts.Messages;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>search-backfill</c>: the search backfill (docs/search.md "Backfill") over history that is only in MariaDB's message
/// store. Loads conversations into <c>kefu_conversation</c> and their messages through <see cref="MySqlMessageStore"/>,
/// then runs <see cref="SearchBackfill"/> steps back to back (no pause) with the default step size and reports the
/// step times and the throughput, and what the default pause makes of it. Loopback only; a tenant of its own in the
/// given database (KEFU_MYSQL or --mysql).
/// </summary>
public static class SearchBackfillRun
{
    public const string Usage = """
        search-backfill mode: dotnet run -c Release --project tests/Benchmarks -- search-backfill [options]
          --mysql CS            MySqlConnector connection string (default: $KEFU_MYSQL)
          --messages N          messages in the store (default 100000)
          --per-conversation N  messages per conversation (default 20)
          --batch N             messages per step (default 500, Kefu:Search:BackfillBatchSize)
        """;

    private static readonly string[] Words =
    [
        "hello", "thanks", "please", "help", "order", "refund", "package", "arrive", "payment", "invoice", "你好", "请问", "退款", "发货", "快递",
    ];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var connectionString = BenchHost.Arg(args, "--mysql") ?? Environment.GetEnvironmentVariable("KEFU_MYSQL")
            ?? throw new ArgumentException("--mysql or KEFU_MYSQL is required.");
        var messages = int.Parse(BenchHost.Arg(args, "--messages") ?? "100000", CultureInfo.InvariantCulture);
        var perConversation = int.Parse(BenchHost.Arg(args, "--per-conversation") ?? "20", CultureInfo.InvariantCulture);
        var batch = int.Parse(BenchHost.Arg(args, "--batch") ?? "500", CultureInfo.InvariantCulture);
        var tenant = "bf-" + Guid.NewGuid().ToString("N")[..8];
        var options = Options.Create(new MySqlMessageStoreOptions { ConnectionString = connectionString });
        var conversations = Math.Max(1, messages / perConversation);
        var start = DateTimeOffset.UtcNow.AddDays(-200);

        var load = Stopwatch.StartNew();
        var ids = new string[conversations];
        await using (var connection = new MySqlConnection(connectionString))
        {
            await connection.OpenAsync(cancellationToken);
            for (var from = 0; from < conversations; from += 1000)
            {
                var sql = new StringBuilder("INSERT INTO kefu_conversation (tenant, conversation_id, inbox, visitor_id, visitor_name, status, assignee_id, agent_ids, last_seq, created_at, updated_at) VALUES ");
                for (var i = from; i < Math.Min(conversations, from + 1000); i++)
                {
                    var created = start.AddSeconds(i * (200.0 * 86400 / conversations));
                    var id = Ulid.NewUlid(created);
                    ids[i] = id.ToString();
                    sql.Append(i == from ? "" : ",").Append(CultureInfo.InvariantCulture,
                        $"('{tenant}', 0x{Convert.ToHexString(id.ToByteArray())}, 'default', 'v{i}', 'Visitor {i}', 'resolved', NULL, '', {perConversation}, '{created:yyyy-MM-dd HH:mm:ss.ffffff}', UTC_TIMESTAMP(6))");
                }

                await using var command = new MySqlCommand(sql.ToString(), connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (var store = new MySqlMessageStore(options, NullLogger<MySqlMessageStore>.Instance))
        {
            // Appends from many conversations at once: the store batches concurrent appends into one commit.
            await Parallel.ForEachAsync(Enumerable.Range(0, conversations), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var created = Ulid.Parse(ids[i]).Time;
                var random = new Random(i);
                for (var seq = 1; seq <= perConversation; seq++)
                {
                    var at = created.AddSeconds(seq * 30);
                    var text = string.Join(' ', Enumerable.Range(0, 4 + (seq % 8)).Select(_ => Words[random.Next(Words.Length)]));
                    await store.AppendAsync(tenant, new ChatMessage(ids[i], Ulid.NewUlid(at), seq,
                        new Sender(seq % 2 == 0 ? ParticipantRole.Agent : ParticipantRole.Visitor, "p" + i, null), text, at, null), ct);
                }
            });
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Loaded {conversations} conversations, {conversations * perConversation} messages in {load.Elapsed.TotalSeconds:F0} s (tenant {tenant})."));

        await using var reader = new MySqlMessageStore(options, NullLogger<MySqlMessageStore>.Instance);
        var backfill = new SearchBackfill(new MySqlSearchBackfillSource(options), reader, new MySqlSearchIndex(options));
        var position = SearchBackfillPosition.Start;
        var steps = new List<double>();
        var (read, indexed) = (0L, 0L);
        var total = Stopwatch.StartNew();
        while (true)
        {
            var watch = Stopwatch.StartNew();
            var step = await backfill.StepAsync(tenant, position, batch, cancellationToken);
            steps.Add(watch.Elapsed.TotalMilliseconds);
            (read, indexed, position) = (read + step.Messages, indexed + step.Indexed, step.Next);
            if (step.Done)
            {
                break;
            }
        }

        total.Stop();
        steps.Sort();
        double P(double p) => steps[Math.Min(steps.Count - 1, (int)Math.Ceiling(p / 100 * steps.Count) - 1)];
        var rate = read / total.Elapsed.TotalSeconds;
        var paced = batch / ((P(50) + 200) / 1000);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Backfill: {read} messages read, {indexed} indexed, {steps.Count} steps of {batch} in {total.Elapsed.TotalSeconds:F1} s: {rate:F0} messages/s unpaced."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Step ms p50 {P(50):F0}, p90 {P(90):F0}, p99 {P(99):F0}, max {steps[^1]:F0}; with the default 200 ms pause about {paced:F0} messages/s."));
        return read == conversations * (long)perConversation ? 0 : 1;
    }
}
