using System.Threading.RateLimiting;

namespace Kefu.Gateway.Attachments;

/// <summary><c>Kefu:RateLimits:UploadsPerMinutePerAddress</c>, bound from the same section as the other rate limits.</summary>
public sealed class UploadAddressLimitOptions
{
    public const string Section = "Kefu:RateLimits";

    /// <summary>Attachment uploads per minute from one client address, whoever is signed in (default 60).</summary>
    public int UploadsPerMinutePerAddress { get; set; } = 60;
}

/// <summary>
/// Uploads per client address, on top of the per-participant limit of the <c>uploads</c> rate-limit policy: visitors
/// are free to create, so a budget per visitor alone lets one address write as much as it creates visitors. An endpoint
/// takes one rate-limiter policy, so this second budget is checked by the upload handler itself.
/// </summary>
public sealed class UploadAddressLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public UploadAddressLimiter(Microsoft.Extensions.Options.IOptions<UploadAddressLimitOptions> options)
    {
        var perMinute = Math.Max(1, options.Value.UploadsPerMinutePerAddress);
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(
            address, _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
    }

    /// <summary>Takes one upload from <paramref name="context"/>'s address; null when allowed, else the seconds to wait.</summary>
    public int? TryAcquire(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
    }

    public void Dispose() => _limiter.Dispose();
}
