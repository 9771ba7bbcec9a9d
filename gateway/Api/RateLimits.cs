using System.Threading.RateLimiting;
using Kefu.Contracts.Messages;
using Microsoft.AspNetCore.RateLimiting;

namespace Kefu.Gateway.Api;

/// <summary>Bound from "Kefu:RateLimits": per-client-IP limits on the anonymous endpoints.</summary>
public sealed class KefuRateLimitOptions
{
    public const string Section = "Kefu:RateLimits";

    /// <summary>Login attempts per minute from one IP address (guards agent passwords against guessing).</summary>
    public int LoginsPerMinute { get; set; } = 20;

    /// <summary>Visitors created (including leave-a-message forms) per minute from one IP address.</summary>
    public int VisitorsPerMinute { get; set; } = 300;

    /// <summary>Widget look-ups (<c>GET /api/v1/widget/{publicKey}</c>, one per page view) per minute from one IP address.</summary>
    public int WidgetPerMinute { get; set; } = 600;
}

public static class RateLimits
{
    public const string Login = "login";
    public const string Visitors = "visitors";
    public const string Widget = "widget";

    public static IServiceCollection AddKefuRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(KefuRateLimitOptions.Section).Get<KefuRateLimitOptions>() ?? new KefuRateLimitOptions();
        return services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Login, ctx => PerIp(ctx, options.LoginsPerMinute));
            limiter.AddPolicy(Visitors, ctx => PerIp(ctx, options.VisitorsPerMinute));
            limiter.AddPolicy(Widget, ctx => PerIp(ctx, options.WidgetPerMinute));
            limiter.OnRejected = async (ctx, cancellationToken) =>
            {
                if (ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await Problems.Create(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, "Too many requests from this address; retry later.")
                    .ExecuteAsync(ctx.HttpContext);
            };
        });
    }

    private static RateLimitPartition<string> PerIp(HttpContext context, int perMinute) =>
        RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, perMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
}
