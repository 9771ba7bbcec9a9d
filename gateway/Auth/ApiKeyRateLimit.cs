using System.Threading.RateLimiting;

namespace Kefu.Gateway.Auth;

/// <summary>
/// The per-key request budget (INTEGRATION.md §1): a token bucket per key id, so one busy integration neither starves
/// another key nor is held to the per-person REST limit. Answered 429 with <c>Retry-After</c> by the gateway's limiter.
/// </summary>
public static class ApiKeyRateLimit
{
    public static RateLimitPartition<string> Partition(string keyId, ApiKeyOptions options)
    {
        var key = "key:" + keyId;
        if (options.RequestsPerSecond <= 0)
        {
            return RateLimitPartition.GetNoLimiter(key);
        }

        // Whole tokens per period: a rate under one a second becomes one token per longer period.
        var (tokens, period) = options.RequestsPerSecond >= 1
            ? ((int)Math.Round(options.RequestsPerSecond), TimeSpan.FromSeconds(1))
            : (1, TimeSpan.FromSeconds(1 / options.RequestsPerSecond));
        return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, options.Burst),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }
}
