using System.Globalization;
using System.Net;

namespace Kefu.Benchmarks;

public enum BenchmarkMode
{
    Closed,
    Rate,
    Idle,
    Inbound,
}

public enum BenchmarkTarget
{
    Kefu,
    Relay,
}

/// <summary>Everything a run needs; <see cref="Parse"/> reads it from the command line.</summary>
public sealed class BenchmarkOptions
{
    /// <summary>No run (warmup + measurement, or an idle hold) may be longer than this.</summary>
    public static readonly TimeSpan MaxRunTime = TimeSpan.FromMinutes(10);

    public const int MaxConnections = 1_000_000;

    /// <summary>Gateways to load (several = cluster mode; connections are spread round-robin).</summary>
    public IReadOnlyList<Uri> Urls { get; set; } = [new Uri("http://127.0.0.1:5080")];

    public string? AdminPassword { get; set; }

    /// <summary>Inbound mode: concurrent senders of business events.</summary>
    public int Senders { get; set; } = 64;

    /// <summary>Inbound mode: events name one of this many contacts by external id (0: no contact).</summary>
    public int Contacts { get; set; }

    /// <summary>Inbound mode: percent of posts that repeat an id already accepted.</summary>
    public int Duplicates { get; set; }

    public BenchmarkMode Mode { get; set; } = BenchmarkMode.Closed;

    public BenchmarkTarget Target { get; set; } = BenchmarkTarget.Kefu;

    /// <summary>Run against the in-process relay first, then Kefu, and report Kefu as a fraction of the relay.</summary>
    public bool CompareRelay { get; set; }

    public int Visitors { get; set; } = 10;

    public int Agents { get; set; } = 2;

    /// <summary>Total send rate (messages/s over all visitors) in <see cref="BenchmarkMode.Rate"/>.</summary>
    public double Rate { get; set; } = 100;

    public int MessageBytes { get; set; } = 64;

    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Closed loop: pause between receiving the reply and sending the next message.</summary>
    public TimeSpan ThinkTime { get; set; } = TimeSpan.Zero;

    /// <summary>An ack or reply not received after this long counts as a timeout error.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Limit for the setup phase (creating accounts, connecting, joining).</summary>
    public TimeSpan SetupTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Idle mode: connections to open and hold.</summary>
    public int Connections { get; set; } = 1000;

    /// <summary>Idle mode: WebSocket connections per created visitor (one visitor may hold several connections).</summary>
    public int ConnectionsPerVisitor { get; set; } = 100;

    /// <summary>Idle mode: connections pinged every <see cref="PingInterval"/>.</summary>
    public int PingSample { get; set; } = 100;

    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Bind client sockets round-robin to 127.0.0.2 … 127.0.0.(N+1); 0 = let the OS choose (127.0.0.1).</summary>
    public int SourceAddresses { get; set; }

    /// <summary>Idle mode: the first source address is 127.0.0.(this); several generator processes take disjoint ranges.</summary>
    public int SourceAddressFirst { get; set; } = 2;

    /// <summary>
    /// Idle mode, coordinated: once every connection is open the run writes this file (its opened count as JSON) so a
    /// script knows this generator is ready.
    /// </summary>
    public string? ReadyPath { get; set; }

    /// <summary>Idle mode, coordinated: after opening, wait until this file exists before the hold starts.</summary>
    public string? BarrierPath { get; set; }

    /// <summary>
    /// Idle mode: at the end of the hold, this many visitors each send one message on one connection; every other
    /// connection of those visitors must receive it (<see cref="IdleRun"/>).
    /// </summary>
    public int DeliverSample { get; set; }

    /// <summary>Idle mode: write this generator's figures (the <see cref="IdleResult"/> alone) as JSON here.</summary>
    public string? ResultPath { get; set; }

    /// <summary>Parallel connection attempts (and parallel HTTP account creations) during setup.</summary>
    public int ConnectConcurrency { get; set; } = 64;

    public int? GatewayPid { get; set; }

    public string? OutPath { get; set; }

    public string? MarkdownPath { get; set; }

    /// <summary>Print the live progress line (stderr) once per second.</summary>
    public bool Progress { get; set; } = true;

    public TextWriter ProgressWriter { get; set; } = Console.Error;

    public static string Usage => """
        Kefu load generator (loopback only). Options (value forms: 20s, 5m, 500ms; counts as integers):
          --url URL[,URL…]          gateway(s) to load, loopback only (default http://127.0.0.1:5080)
          --admin-password PW       admin password (needed to create the agents)
          --mode closed|rate|idle|inbound   closed loop, fixed total rate, idle connections, or inbound events (default closed)
          --senders N               inbound mode: concurrent senders of POST /api/v1/webhook (default 64)
          --contacts K              inbound mode: events name one of K contacts by externalId (default 0: none)
          --duplicates P            inbound mode: percent of posts that repeat an accepted id (default 0)
          --target kefu|relay       Kefu gateway(s) or the in-process raw WebSocket relay (default kefu)
          --compare-relay           run the relay first, then Kefu, and print Kefu/relay
          --visitors N --agents M   load mode participants (default 10 / 2)
          --rate R                  rate mode: total messages/s sent by visitors (default 100)
          --message-bytes B         text size of each message (default 64, minimum 24)
          --think-time T            closed loop: pause before the next message (default 0)
          --warmup T --duration T   default 30s / 20s (30s lets tiered JIT finish); warmup + duration <= 10m
          --timeout T               ack/reply timeout, counted as an error (default 10s)
          --setup-timeout T         limit for accounts + connections + joins (default 5m)
          --connections N           idle mode: WebSockets to open and hold (default 1000)
          --connections-per-visitor K  idle mode: connections sharing one visitor (default 100)
          --ping-sample N --ping-interval T   idle mode: pings (default 100 every 5s)
          --source-addresses N      bind client sockets to 127.0.0.2..127.0.0.(N+1) (default 0 = OS choice)
          --source-address-first A  first source address is 127.0.0.A (default 2), for disjoint ranges per process
          --ready FILE              idle mode: write FILE (JSON: opened count) once every connection is open
          --barrier FILE            idle mode: then wait until FILE exists before the hold (bounded by --setup-timeout)
          --deliver-sample S        idle mode: after the hold, S visitors send one message each; all their other
                                    connections must receive it (default 0: none)
          --result FILE.json        idle mode: this generator's figures as JSON (merged by `idle-merge`)
          --connect-concurrency N   parallel connects / account creations (default 64)
          --gateway-pid PID         report gateway RSS per connection from /proc/PID/status
          --out FILE.json           write the result as JSON
          --markdown FILE.md        write the markdown summary to a file too
          --no-progress             no live progress line
        """;

    public static BenchmarkOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchmarkOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{name} needs a value.");
                }

                return args[++i];
            }

            switch (name)
            {
                case "--url":
                    o.Urls = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u))];
                    break;
                case "--admin-password":
                    o.AdminPassword = Value();
                    break;
                case "--mode":
                    o.Mode = Enum.Parse<BenchmarkMode>(Value(), ignoreCase: true);
                    break;
                case "--senders":
                    o.Senders = Int(name, Value());
                    break;
                case "--contacts":
                    o.Contacts = Int(name, Value());
                    break;
                case "--duplicates":
                    o.Duplicates = Int(name, Value());
                    break;
                case "--target":
                    o.Target = Enum.Parse<BenchmarkTarget>(Value(), ignoreCase: true);
                    break;
                case "--compare-relay":
                    o.CompareRelay = true;
                    break;
                case "--visitors":
                    o.Visitors = Int(name, Value());
                    break;
                case "--agents":
                    o.Agents = Int(name, Value());
                    break;
                case "--rate":
                    o.Rate = double.Parse(Value(), CultureInfo.InvariantCulture);
                    break;
                case "--message-bytes":
                    o.MessageBytes = Int(name, Value());
                    break;
                case "--think-time":
                    o.ThinkTime = ParseDuration(Value());
                    break;
                case "--warmup":
                    o.Warmup = ParseDuration(Value());
                    break;
                case "--duration":
                    o.Duration = ParseDuration(Value());
                    break;
                case "--timeout":
                    o.Timeout = ParseDuration(Value());
                    break;
                case "--setup-timeout":
                    o.SetupTimeout = ParseDuration(Value());
                    break;
                case "--connections":
                    o.Connections = Int(name, Value());
                    break;
                case "--connections-per-visitor":
                case "--tokens-per-visitor":
                    o.ConnectionsPerVisitor = Int(name, Value());
                    break;
                case "--ping-sample":
                    o.PingSample = Int(name, Value());
                    break;
                case "--ping-interval":
                    o.PingInterval = ParseDuration(Value());
                    break;
                case "--source-addresses":
                    o.SourceAddresses = Int(name, Value());
                    break;
                case "--source-address-first":
                    o.SourceAddressFirst = Int(name, Value());
                    break;
                case "--ready":
                    o.ReadyPath = Value();
                    break;
                case "--barrier":
                    o.BarrierPath = Value();
                    break;
                case "--deliver-sample":
                    o.DeliverSample = Int(name, Value());
                    break;
                case "--result":
                    o.ResultPath = Value();
                    break;
                case "--connect-concurrency":
                    o.ConnectConcurrency = Int(name, Value());
                    break;
                case "--gateway-pid":
                    o.GatewayPid = Int(name, Value());
                    break;
                case "--out":
                    o.OutPath = Value();
                    break;
                case "--markdown":
                    o.MarkdownPath = Value();
                    break;
                case "--no-progress":
                    o.Progress = false;
                    break;
                default:
                    throw new ArgumentException($"Unknown option {name}.");
            }
        }

        o.Validate();
        return o;
    }

    /// <summary>Throws <see cref="ArgumentException"/> for anything out of bounds, including non-loopback targets.</summary>
    public void Validate()
    {
        if (Urls.Count == 0)
        {
            throw new ArgumentException("--url: at least one gateway is needed.");
        }

        foreach (var url in Urls)
        {
            EnsureLoopback(url);
        }

        Check(Visitors is >= 1 and <= 100_000, "--visitors must be 1..100000.");
        Check(Agents >= 1 && Agents <= Visitors, "--agents must be 1..visitors.");
        Check((Visitors + Agents - 1) / Agents <= 1000, "each agent can hold at most 1000 conversations: use more --agents.");
        Check(Rate is > 0 and <= 1_000_000, "--rate must be > 0 and <= 1000000.");
        Check(MessageBytes is >= 24 and <= 8192, "--message-bytes must be 24..8192.");
        Check(Warmup >= TimeSpan.Zero && Duration > TimeSpan.Zero && Warmup + Duration <= MaxRunTime, "--warmup + --duration must be > 0 and <= 10m.");
        Check(Timeout > TimeSpan.Zero && Timeout <= TimeSpan.FromMinutes(2), "--timeout must be > 0 and <= 2m.");
        Check(SetupTimeout > TimeSpan.Zero && SetupTimeout <= TimeSpan.FromMinutes(30), "--setup-timeout must be > 0 and <= 30m.");
        Check(ThinkTime >= TimeSpan.Zero && ThinkTime <= TimeSpan.FromMinutes(1), "--think-time must be 0..1m.");
        Check(Connections is >= 1 and <= MaxConnections, "--connections must be 1..1000000.");
        Check(ConnectionsPerVisitor is >= 1 and <= 10_000, "--connections-per-visitor must be 1..10000.");
        Check(PingSample >= 0 && PingInterval >= TimeSpan.FromMilliseconds(100), "--ping-sample >= 0, --ping-interval >= 100ms.");
        Check(SourceAddresses is >= 0 and <= 250, "--source-addresses must be 0..250.");
        Check(SourceAddressFirst is >= 2 and <= 254 && SourceAddressFirst + Math.Max(SourceAddresses, 1) - 1 <= 254,
            "--source-address-first must be 2..254 and leave room for --source-addresses (up to 127.0.0.254).");
        Check(DeliverSample is >= 0 and <= 100_000, "--deliver-sample must be 0..100000.");
        Check(Mode == BenchmarkMode.Idle || (ReadyPath, BarrierPath, ResultPath, DeliverSample) is (null, null, null, 0),
            "--ready, --barrier, --result and --deliver-sample are for --mode idle.");
        Check(ConnectConcurrency is >= 1 and <= 10_000, "--connect-concurrency must be 1..10000.");
        Check(!(CompareRelay && Mode == BenchmarkMode.Idle), "--compare-relay is for the load modes.");
        Check(Senders is >= 1 and <= 10_000 && Contacts is >= 0 and <= 1_000_000 && Duplicates is >= 0 and <= 100,
            "--senders must be 1..10000, --contacts 0..1000000, --duplicates 0..100.");
        Check(!(Mode == BenchmarkMode.Inbound && (CompareRelay || Target == BenchmarkTarget.Relay)), "--mode inbound runs against Kefu only.");
        Check(!(Mode == BenchmarkMode.Idle && Target == BenchmarkTarget.Relay), "--mode idle runs against Kefu only.");
    }

    /// <summary>Only 127.0.0.0/8 (or "localhost", which is resolved to 127.0.0.1) may be loaded.</summary>
    public static void EnsureLoopback(Uri url)
    {
        if (url.Scheme is not ("http" or "ws"))
        {
            throw new ArgumentException($"{url}: only http:// (or ws://) loopback URLs are supported.");
        }

        if (url.IsLoopback && url.Host == "localhost")
        {
            return;
        }

        if (!IPAddress.TryParse(url.Host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || address.GetAddressBytes()[0] != 127)
        {
            throw new ArgumentException($"Refusing to load {url.Host}: the benchmark only targets loopback addresses (127.0.0.0/8).");
        }
    }

    public static TimeSpan ParseDuration(string text)
    {
        text = text.Trim();
        static double Num(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        if (text.EndsWith("ms", StringComparison.Ordinal))
        {
            return TimeSpan.FromMilliseconds(Num(text[..^2]));
        }

        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(Num(text[..^1])),
            'm' => TimeSpan.FromMinutes(Num(text[..^1])),
            'h' => TimeSpan.FromHours(Num(text[..^1])),
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) => TimeSpan.FromSeconds(seconds),
            _ => TimeSpan.Parse(text, CultureInfo.InvariantCulture),
        };
    }

    public BenchmarkOptions Clone() => (BenchmarkOptions)MemberwiseClone();

    private static int Int(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"{name}: '{value}' is not an integer.");

    private static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}
