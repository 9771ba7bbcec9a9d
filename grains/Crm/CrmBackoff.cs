namespace Kefu.Grains.Crm;

/// <summary>
/// When a failed record tries again: full jitter (a uniformly random wait between zero and the exponential cap), so
/// thousands of records failing together do not come back together; never before the CRM's <c>Retry-After</c>.
/// </summary>
public static class CrmBackoff
{
    /// <param name="attempt">Failed attempts so far (1 = the first failed).</param>
    /// <param name="sample">A random number in [0, 1).</param>
    public static TimeSpan Delay(CrmRetryOptions retry, int attempt, TimeSpan? retryAfter, double sample)
    {
        ArgumentNullException.ThrowIfNull(retry);
        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var cap = Math.Min(retry.MaxDelay.Ticks, retry.BaseDelay.Ticks * Math.Pow(2, exponent));
        var jittered = TimeSpan.FromTicks((long)(cap * Math.Clamp(sample, 0, 1)));
        return retryAfter is { } after && after > jittered ? after : jittered;
    }
}
