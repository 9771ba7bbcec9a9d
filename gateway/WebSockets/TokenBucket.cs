using System.Diagnostics;

namespace Kefu.Gateway.WebSockets;

/// <summary>
/// Per-connection frame budget. Deliberately not System.Threading.RateLimiting: its token bucket needs a timer per
/// instance to replenish, and a gateway holds 100k connections; this one refills lazily from a timestamp.
/// Used only from the connection's read loop (not thread-safe).
/// </summary>
public sealed class TokenBucket(double ratePerSecond, int burst)
{
    private double _tokens = burst;
    private long _last = Stopwatch.GetTimestamp();

    public bool TryTake()
    {
        var now = Stopwatch.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (Stopwatch.GetElapsedTime(_last, now).TotalSeconds * ratePerSecond));
        _last = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}
