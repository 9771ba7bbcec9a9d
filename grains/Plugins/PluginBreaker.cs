namespace Kefu.Grains.Plugins;

/// <summary>
/// Counts a plugin's calls and failures and suspends it after too many failures in a row: a plugin that keeps
/// trapping costs one fast refusal per message instead of a sandbox rebuild and a full timeout each time.
/// </summary>
public sealed class PluginBreaker(int suspendAfter, TimeSpan suspendFor)
{
    private readonly double[] recentMs = new double[256];
    private int recentCount;
    private int recentNext;

    public long Calls { get; private set; }
    public long Failures { get; private set; }
    public int ConsecutiveFailures { get; private set; }
    public DateTimeOffset? SuspendedUntil { get; private set; }
    public string? LastErrorCode { get; private set; }
    public string? LastError { get; private set; }
    public DateTimeOffset? LastErrorAt { get; private set; }

    public bool IsSuspended(DateTimeOffset now) => SuspendedUntil is { } until && now < until;

    public void Record(bool ok, double elapsedMs, string? code, string? reason, DateTimeOffset now)
    {
        Calls++;
        recentMs[recentNext] = elapsedMs;
        recentNext = (recentNext + 1) % recentMs.Length;
        recentCount = Math.Min(recentCount + 1, recentMs.Length);
        if (ok)
        {
            ConsecutiveFailures = 0;
            SuspendedUntil = null;
            return;
        }
        Failures++;
        ConsecutiveFailures++;
        (LastErrorCode, LastError, LastErrorAt) = (code, reason, now);
        // After a suspension one failing call suspends again (the count is still over the threshold).
        if (ConsecutiveFailures >= suspendAfter)
            SuspendedUntil = now + suspendFor;
    }

    /// <summary>Forget failures (a new revision is a new plugin as far as suspension goes).</summary>
    public void Reset()
    {
        ConsecutiveFailures = 0;
        SuspendedUntil = null;
    }

    /// <summary>The 99th percentile of the last 256 calls' durations.</summary>
    public double P99Ms()
    {
        if (recentCount == 0)
            return 0;
        var sorted = recentMs.AsSpan(0, recentCount).ToArray();
        Array.Sort(sorted);
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(sorted.Length * 0.99) - 1)];
    }
}
