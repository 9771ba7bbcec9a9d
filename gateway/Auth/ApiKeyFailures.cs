using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Auth;

/// <summary>
/// Counts refused service keys per client address (<see cref="ApiKeyOptions.FailuresPerMinute"/>): a well-formed key
/// costs a grain look-up (a storage read for an id never seen), so guessing is bounded before it reaches the cluster.
/// </summary>
public sealed class ApiKeyFailures : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public ApiKeyFailures(IOptions<ApiKeyOptions> options)
    {
        var perMinute = options.Value.FailuresPerMinute;
        if (perMinute > 0)
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(
                address, _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        }
    }

    /// <summary>Whether this address has used up its refusals for now (then its keys are not looked up).</summary>
    public bool Exhausted(string address) => _limiter?.GetStatistics(address)?.CurrentAvailablePermits == 0;

    /// <summary>Counts one refusal.</summary>
    public void Record(string address)
    {
        using var lease = _limiter?.AttemptAcquire(address);
    }

    public void Dispose() => _limiter?.Dispose();
}
