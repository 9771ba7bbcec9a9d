using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Benchmarks;

/// <summary>
/// <c>search</c>: conversation search over a million messages in MariaDB (docs/search.md, docs/performance.md "Search").
/// Loads conversations into <c>kefu_conversation</c> with multi-row INSERTs, then indexes the messages through
/// <see cref="MySqlSearchIndex.AddAsync"/> (the indexer's own write path: tokenizing, hashing, 200-row INSERTs) and
/// measures its throughput; then runs each query case sequentially and reports p50/p99. Loopback only; a tenant of
/// its own in the given database (KEFU_MYSQL or --mysql).
/// </summary>
public static class SearchRun
{
    public const string Usage = """
        search mode: dotnet run -c Release --project tests/Benchmarks -- search [options]
          --mysql CS          MySqlConnector connection string (default: $KEFU_MYSQL)
          --messages N        messages to index (default 1000000)
          --per-conversation N  messages per conversation (default 20)
          --writers N         parallel index writers (default 2)
          --tenant T          query the messages an earlier run loaded for tenant T (skips loading; --messages must match)
          --queries N         timed queries per case (default 200, after a tenth as many, at least 2, for warm-up)
        """;

    private static readonly string[] English =
    [
        "hello", "thanks", "please", "help", "my", "the", "is", "not", "working", "when", "will", "it", "arrive", "package", "payment",
        "card", "account", "login", "password", "reset", "app", "crash", "screen", "price", "discount", "coupon", "address", "change",
        "cancel", "invoice", "receipt", "delivery", "late", "broken", "size", "colour", "exchange", "store", "open", "today",
    ];

    private static readonly string[] Chinese =
    [
        "你好", "请问", "我的订单", "什么时候", "发货", "快递", "到了吗", "退款", "申请", "质量问题", "换货", "尺码", "颜色", "优惠券", "发票",
        "地址", "修改", "谢谢", "客服", "在吗", "物流", "信息", "没有", "更新", "支付", "失败", "账号", "登录", "密码", "重置",
    ];

    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var connectionString = BenchHost.Arg(args, "--mysql") ?? Environment.GetEnvironmentVariable("KEFU_MYSQL")
            ?? throw new ArgumentException("--mysql or KEFU_MYSQL is required.");
        var messages = int.Parse(BenchHost.Arg(args, "--messages") ?? "1000000", CultureInfo.InvariantCulture);
        var perConversation = int.Parse(BenchHost.Arg(args, "--per-conversation") ?? "20", CultureInfo.InvariantCulture);
        var writers = int.Parse(BenchHost.Arg(args, "--writers") ?? "2", CultureInfo.InvariantCulture);
        var queries = int.Parse(BenchHost.Arg(args, "--queries") ?? "200", CultureInfo.InvariantCulture);
        var reuse = BenchHost.Arg(args, "--tenant");
        var tenant = reuse ?? "bench-" + Guid.NewGuid().ToString("N")[..8];
        var index = new MySqlSearchIndex(Options.Create(new MySqlMessageStoreOptions { ConnectionString = connectionString }));
        var conversations = Math.Max(1, messages / perConversation);
        var start = DateTimeOffset.UtcNow.AddDays(-90);
        var random = new Random(42);

        // Conversations: a fifth resolved, a third assigned to one of 50 agents, tags on a tenth.
        var ids = new byte[conversations][];
        var load = Stopwatch.StartNew();
        if (reuse is null)
        {
            await using (var connection = new MySqlConnection(connectionString))
            {
                await connection.OpenAsync(cancellationToken);
                for (var from = 0; from < conversations; from += 1000)
                {
                    var sql = new StringBuilder("INSERT INTO kefu_conversation (tenant, conversation_id, inbox, visitor_id, visitor_name, status, assignee_id, agent_ids, last_seq, created_at, updated_at, tags) VALUES ");
                    for (var i = from; i < Math.Min(conversations, from + 1000); i++)
                    {
                        var created = start.AddSeconds(i * (90.0 * 86400 / conversations));
                        ids[i] = Ulid.NewUlid(created).ToByteArray();
                        var agent = i % 3 == 0 ? $"'agent{i % 50}'" : "NULL";
                        sql.Append(i == from ? "" : ",").Append(CultureInfo.InvariantCulture,
                            $"('{tenant}', 0x{Convert.ToHexString(ids[i])}, 'default', 'v{i}', 'Visitor {i}', '{(i % 5 == 0 ? "resolved" : "open")}', {agent}, {(i % 3 == 0 ? $"'agent{i % 50}'" : "''")}, {perConversation}, '{created:yyyy-MM-dd HH:mm:ss.ffffff}', UTC_TIMESTAMP(6), {(i % 10 == 0 ? "'[\"vip\"]'" : "NULL")})");
                    }

                    await using var command = new MySqlCommand(sql.ToString(), connection);
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            var directorySeconds = load.Elapsed.TotalSeconds;
            Console.WriteLine($"tenant {tenant}: {conversations} conversations in {directorySeconds:F1} s");

            // Messages: half English, half Chinese sentences of 4-12 words; "zebra" in 1 of 20000 messages (the rare word).
            var next = -1;
            var index0 = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var rng = new Random(w + 1);
                var batch = new List<SearchDocument>(500);
                while (true)
                {
                    var first = Interlocked.Add(ref next, 500) - 499;
                    if (first >= messages)
                    {
                        break;
                    }

                    batch.Clear();
                    for (var m = first; m < Math.Min(messages, first + 500); m++)
                    {
                        var c = m / perConversation;
                        var seq = (m % perConversation) + 1;
                        var at = start.AddSeconds(c * (90.0 * 86400 / conversations)).AddMinutes(seq);
                        batch.Add(new SearchDocument(tenant, new Ulid(ids[Math.Min(c, conversations - 1)]).ToString(), SearchKinds.Message, seq, at,
                            seq % 2 == 0 ? "agent" : "visitor", Sentence(rng, m)));
                    }

                    await index.AddAsync(batch, cancellationToken);
                }
            }, cancellationToken)));
            index0.Stop();
            var rate = messages / index0.Elapsed.TotalSeconds;
            Console.WriteLine($"indexed {messages} messages in {index0.Elapsed.TotalSeconds:F1} s: {rate:F0} messages/s with {writers} writers");
        }

        var now = DateTimeOffset.UtcNow;
        var cases = new (string Name, SearchQuery Query)[]
        {
            ("common word (\"help\", ~10% of messages)", Query("help")),
            ("rare word (\"zebra\", 1 in 20 000)", Query("zebra")),
            ("Chinese bigram (\"退款\", ~8%)", Query("退款")),
            ("Chinese phrase (\"申请退款\")", Query("申请退款")),
            ("two words (\"payment failed\" style: \"payment card\")", Query("payment card")),
            ("common word + status=resolved", Query("help") with { Status = "resolved" }),
            ("common word + tag=vip", Query("help") with { Tag = "vip" }),
            ("common word + last 7 days", Query("help") with { From = now.AddDays(-7) }),
            ("common word, agent (visibility rule)", Query("help") with { AgentId = "agent7", IsAdmin = false }),
            ("Chinese bigram, page 5 (cursor)", Query("退款")),
        };

        Console.WriteLine();
        Console.WriteLine("| query | results | p50 ms | p99 ms |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, query) in cases)
        {
            var q = query;
            if (name.Contains("page 5", StringComparison.Ordinal))
            {
                for (var p = 0; p < 4; p++)
                {
                    var page = await index.SearchAsync(tenant, q, cancellationToken);
                    q = q with { After = page.Next };
                }
            }

            var times = new List<double>(queries);
            var found = 0;
            var warmup = Math.Max(2, queries / 10);
            for (var i = 0; i < queries + warmup; i++)
            {
                var sw = Stopwatch.StartNew();
                var page = await index.SearchAsync(tenant, q, cancellationToken);
                sw.Stop();
                found = page.Results.Length;
                if (i >= warmup)
                {
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }
            }

            times.Sort();
            Console.WriteLine($"| {name} | {found} | {times[times.Count / 2]:F1} | {times[(int)(times.Count * 0.99)]:F1} |");
        }

        return 0;

        SearchQuery Query(string text) => new("admin", IsAdmin: true, text, Limit: 20);
    }

    private static string Sentence(Random rng, int m)
    {
        var words = rng.Next(4, 13);
        var sb = new StringBuilder();
        var chinese = m % 2 == 1;
        for (var i = 0; i < words; i++)
        {
            if (chinese)
            {
                sb.Append(Chinese[Skewed(rng, Chinese.Length)]);
            }
            else
            {
                sb.Append(i == 0 ? "" : " ").Append(English[Skewed(rng, English.Length)]);
            }
        }

        if (m % 20_000 == 7)
        {
            sb.Append(" zebra");
        }

        return sb.ToString();
    }

    /// <summary>Words of a natural-ish frequency: the first ones far more often than the last.</summary>
    private static int Skewed(Random rng, int count) => (int)Math.Min(count - 1, Math.Floor(count * Math.Pow(rng.NextDouble(), 2.2)));
}
