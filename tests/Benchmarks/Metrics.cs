using System.Diagnostics;
using HdrHistogram;

namespace Kefu.Benchmarks;

/// <summary>
/// Thread-safe counters and latency histograms (microseconds) of one run. Only events inside the measurement window
/// (after warmup, before the end) are recorded in the histograms and the delivered count.
/// </summary>
public sealed class Metrics
{
    /// <summary>Highest recordable latency: 10 minutes in microseconds.</summary>
    private const long HighestMicros = 600_000_000;

    private readonly Lock _lock = new();
    private readonly LongHistogram _endToEnd = new(HighestMicros, 3);
    private readonly LongHistogram _ack = new(HighestMicros, 3);
    private long _windowStart = long.MaxValue;
    private long _windowEnd = long.MaxValue;

    private long _sent;
    private long _acked;
    private long _delivered;
    private long _deliveredToAgents;
    private long _deliveredToVisitors;
    private long _deliveredTotal;
    private long _errorFrames;
    private long _disconnects;
    private long _timeouts;
    private long _connectFailures;
    private long _otherErrors;
    private long _open;
    private long _pongs;

    public long Sent => Interlocked.Read(ref _sent);

    public long DeliveredTotal => Interlocked.Read(ref _deliveredTotal);

    public long OpenConnections => Interlocked.Read(ref _open);

    public long Errors => Interlocked.Read(ref _errorFrames) + Interlocked.Read(ref _disconnects) + Interlocked.Read(ref _timeouts)
        + Interlocked.Read(ref _connectFailures) + Interlocked.Read(ref _otherErrors);

    /// <summary>Error descriptions, the first few of each kind, for the report.</summary>
    public List<string> ErrorSamples { get; } = [];

    public bool Stopping { get; set; }

    public void StartWindow(long timestamp) => Interlocked.Exchange(ref _windowStart, timestamp);

    public void EndWindow(long timestamp) => Interlocked.Exchange(ref _windowEnd, timestamp);

    private bool InWindow(long sentAt, long now) => sentAt >= Interlocked.Read(ref _windowStart) && now <= Interlocked.Read(ref _windowEnd);

    public void Sent1() => Interlocked.Increment(ref _sent);

    public void Ack(long sentAt)
    {
        Interlocked.Increment(ref _acked);
        var now = Stopwatch.GetTimestamp();
        if (InWindow(sentAt, now))
        {
            Record(_ack, sentAt, now);
        }
    }

    public void Delivered(long sentAt, bool toAgent)
    {
        Interlocked.Increment(ref _deliveredTotal);
        var now = Stopwatch.GetTimestamp();
        if (InWindow(sentAt, now))
        {
            Interlocked.Increment(ref _delivered);
            Interlocked.Increment(ref toAgent ? ref _deliveredToAgents : ref _deliveredToVisitors);
            Record(_endToEnd, sentAt, now);
        }
    }

    public void Pong() => Interlocked.Increment(ref _pongs);

    public void Opened() => Interlocked.Increment(ref _open);

    public void Closed() => Interlocked.Decrement(ref _open);

    public void ErrorFrame(string description) => Error(ref _errorFrames, "error frame: " + description);

    public void Disconnect(string description)
    {
        if (!Stopping)
        {
            Error(ref _disconnects, "disconnect: " + description);
        }
    }

    public void Timeout(string description) => Error(ref _timeouts, "timeout: " + description);

    public void ConnectFailure(string description) => Error(ref _connectFailures, "connect: " + description);

    public void OtherError(string description) => Error(ref _otherErrors, description);

    private void Error(ref long counter, string description)
    {
        var n = Interlocked.Increment(ref counter);
        if (n <= 5)
        {
            lock (_lock)
            {
                ErrorSamples.Add(description);
            }
        }
    }

    private void Record(LongHistogram histogram, long from, long to)
    {
        var micros = Math.Clamp((long)Stopwatch.GetElapsedTime(from, to).TotalMicroseconds, 1, HighestMicros);
        lock (_lock)
        {
            histogram.RecordValue(micros);
        }
    }

    public ErrorCounts ErrorCounts() => new(
        Interlocked.Read(ref _errorFrames), Interlocked.Read(ref _disconnects), Interlocked.Read(ref _timeouts),
        Interlocked.Read(ref _connectFailures), Interlocked.Read(ref _otherErrors));

    public (LatencySummary EndToEnd, LatencySummary Ack, long Delivered, long ToAgents, long ToVisitors, long Sent, long Acked, long Pongs) Snapshot()
    {
        lock (_lock)
        {
            return (LatencySummary.From(_endToEnd), LatencySummary.From(_ack), Interlocked.Read(ref _delivered),
                Interlocked.Read(ref _deliveredToAgents), Interlocked.Read(ref _deliveredToVisitors), Sent,
                Interlocked.Read(ref _acked), Interlocked.Read(ref _pongs));
        }
    }
}

public sealed record ErrorCounts(long ErrorFrames, long Disconnects, long Timeouts, long ConnectFailures, long Other)
{
    public long Total => ErrorFrames + Disconnects + Timeouts + ConnectFailures + Other;
}

/// <summary>Latency percentiles in microseconds.</summary>
public sealed record LatencySummary(long Count, double MeanUs, long P50Us, long P90Us, long P99Us, long P999Us, long MaxUs)
{
    public static LatencySummary From(LongHistogram h) => h.TotalCount == 0
        ? new LatencySummary(0, 0, 0, 0, 0, 0, 0)
        : new LatencySummary(h.TotalCount, Math.Round(h.GetMean(), 1), h.GetValueAtPercentile(50), h.GetValueAtPercentile(90),
            h.GetValueAtPercentile(99), h.GetValueAtPercentile(99.9), h.GetMaxValue());
}
