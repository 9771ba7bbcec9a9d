using System.Threading.RateLimiting;

namespace Kefu.Grains.Crm;

/// <summary>
/// What one silo sends one CRM (per tenant): at most <see cref="CrmConnectorOptions.RequestsPerSecond"/> requests a second
/// (a token bucket; requests over it wait their turn, oldest first), and nothing at all while the CRM asked for a pause
/// (a 429 or 503 with <c>Retry-After</c>; a 429 without one pauses a second). Thousands of records waiting for one CRM
/// thus share its limit instead of each finding out with a 429 of its own.
/// </summary>
public sealed class CrmThrottle(CrmConnectorOptions crm, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan DefaultPause = TimeSpan.FromSeconds(1);

    private readonly TokenBucketRateLimiter? _limiter = crm.RequestsPerSecond > 0 ? Limiter(crm.RequestsPerSecond) : null;

    private long _pausedUntilTicks;

    /// <summary>When the CRM's pause ends (null: not paused).</summary>
    public DateTimeOffset? PausedUntil
    {
        get
        {
            var ticks = Interlocked.Read(ref _pausedUntilTicks);
            return ticks > time.GetUtcNow().UtcTicks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;
        }
    }

    /// <summary>Waits until a request may go. False when the queue is full (the attempt is retried later).</summary>
    public async ValueTask<bool> WaitTurnAsync(CancellationToken cancellationToken)
    {
        while (PausedUntil is { } until)
        {
            await Task.Delay(until - time.GetUtcNow(), time, cancellationToken).ConfigureAwait(false);
        }

        if (_limiter is null)
        {
            return true;
        }

        using var lease = await _limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        return lease.IsAcquired;
    }

    /// <summary>The CRM answered: a 429 (or a 503 with <c>Retry-After</c>) pauses every request to it.</summary>
    public void Answered(int status, TimeSpan? retryAfter)
    {
        if (status != 429 && !(status == 503 && retryAfter is not null))
        {
            return;
        }

        var until = (time.GetUtcNow() + (retryAfter ?? DefaultPause)).UtcTicks;
        long seen;
        do
        {
            seen = Interlocked.Read(ref _pausedUntilTicks);
            if (seen >= until)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _pausedUntilTicks, until, seen) != seen);
    }

    public void Dispose() => _limiter?.Dispose();

    /// <summary>
    /// Evenly spaced: at most a hundredth of a second's worth at once (one request at 95/s), refilled as often, so a CRM
    /// that counts over short windows does not see bursts.
    /// </summary>
    private static TokenBucketRateLimiter Limiter(double perSecond)
    {
        var tokens = Math.Max(1, (int)Math.Ceiling(perSecond / 100));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = tokens,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds(tokens / perSecond),
            QueueLimit = 1_000_000,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }
}
