namespace Kefu.Benchmarks;

/// <summary>The result of <see cref="BenchmarkRunner.RunAsync"/>; serialized as the JSON result file.</summary>
public sealed class BenchmarkResult
{
    public DateTimeOffset StartedAt { get; init; }

    public string Machine { get; init; } = Environment.MachineName;

    public int ProcessorCount { get; init; } = Environment.ProcessorCount;

    public string Runtime { get; init; } = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    public string CommandLine { get; init; } = "";

    public List<RunResult> Runs { get; init; } = [];

    public IdleResult? Idle { get; set; }

    public InboundResult? Inbound { get; set; }

    /// <summary>Kefu delivered/s divided by the relay's delivered/s (with --compare-relay).</summary>
    public double? KefuToRelayRatio { get; set; }

    public string? JsonPath { get; set; }

    public string Markdown { get; set; } = "";
}

public sealed class RunResult
{
    public required string Target { get; init; }

    public required string Mode { get; init; }

    public List<string> Gateways { get; init; } = [];

    public int Visitors { get; init; }

    public int Agents { get; init; }

    public int Connections { get; init; }

    public int MessageBytes { get; init; }

    public double? TargetRate { get; init; }

    public double MeasuredSeconds { get; init; }

    /// <summary>Messages sent (visitors and agents, whole run including warmup).</summary>
    public long Sent { get; init; }

    public long Acked { get; init; }

    /// <summary>Messages received by the other side inside the measurement window (both directions).</summary>
    public long Delivered { get; init; }

    public long DeliveredToAgents { get; init; }

    public long DeliveredToVisitors { get; init; }

    public double DeliveredPerSecond { get; init; }

    /// <summary>Connections per second while opening all of them.</summary>
    public double ConnectPerSecond { get; init; }

    /// <summary>Send → the other side receives the message.</summary>
    public required LatencySummary EndToEnd { get; init; }

    /// <summary>Send → ack.</summary>
    public required LatencySummary Ack { get; init; }

    public required ErrorCounts Errors { get; init; }

    public List<string> ErrorSamples { get; init; } = [];

    public long? GatewayRssBeforeKb { get; init; }

    public long? GatewayRssAfterKb { get; init; }

    public double? GatewayRssPerConnectionKb { get; init; }
}

public sealed class IdleResult
{
    public List<string> Gateways { get; init; } = [];

    public int Requested { get; init; }

    public int Opened { get; init; }

    public int StillOpen { get; init; }

    public int Visitors { get; init; }

    public int SourceAddresses { get; init; }

    public double HeldSeconds { get; init; }

    public double ConnectPerSecond { get; init; }

    /// <summary>Seconds spent creating the visitors (HTTP), before any WebSocket.</summary>
    public double VisitorsSeconds { get; init; }

    /// <summary>Seconds from the first connection attempt to the last one finished.</summary>
    public double ConnectSeconds { get; init; }

    /// <summary>Seconds waited at <c>--barrier</c> for the other generators.</summary>
    public double BarrierWaitSeconds { get; init; }

    /// <summary>Connections opened but not open at the end (closed by the server or the network during the run).</summary>
    public int Dropped => Opened - StillOpen;

    public long PingsSent { get; init; }

    public long PongsReceived { get; init; }

    public required LatencySummary PingRoundTrip { get; init; }

    /// <summary>The ping round trips as [microseconds, count] pairs, so several generators merge exactly.</summary>
    public List<long[]> PingHistogramUs { get; init; } = [];

    /// <summary>Visitors in the delivery sample (<c>--deliver-sample</c>).</summary>
    public int DeliverVisitors { get; init; }

    /// <summary>Sample visitors that still had an open connection to send from.</summary>
    public int DeliverSenders { get; init; }

    /// <summary>Senders that got their ack.</summary>
    public int DeliverAcks { get; init; }

    /// <summary>Other connections of the sample visitors that should receive the message.</summary>
    public int DeliverExpected { get; init; }

    /// <summary>Of those, how many received it in time.</summary>
    public int Delivered { get; init; }

    public required ErrorCounts Errors { get; init; }

    public List<string> ErrorSamples { get; init; } = [];

    public long? GatewayRssBeforeKb { get; init; }

    public long? GatewayRssAfterKb { get; init; }

    public double? GatewayRssPerConnectionKb { get; init; }
}

/// <summary>VmRSS of the gateway process from /proc/PID/status.</summary>
public static class GatewayRss
{
    public static long? ReadKb(BenchmarkOptions options, BenchmarkTarget target)
    {
        if (options.GatewayPid is not { } pid || target != BenchmarkTarget.Kefu)
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // No such process (or not readable): no RSS in the report.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }

        return null;
    }

    public static double? PerConnection(long? beforeKb, long? afterKb, int connections) =>
        beforeKb is { } b && afterKb is { } a && connections > 0 ? Math.Round((a - b) / (double)connections, 2) : null;
}
