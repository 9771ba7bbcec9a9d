using System.Threading.RateLimiting;
using Kefu.Contracts.Messages;
using Kefu.Gateway.Auth;
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

    /// <summary>Attachment uploads per minute by one visitor or agent (whatever address they come from).</summary>
    public int UploadsPerMinute { get; set; } = 30;

    /// <summary>
    /// Authenticated REST requests per minute by one token subject (a visitor or an agent, whatever address or how many
    /// tokens): one caller cannot flood the cluster, e.g. activate a grain per made-up id. 0 turns it off.
    /// </summary>
    public int RestPerMinute { get; set; } = 600;
}

public static class RateLimits
{
    public const string Login = "login";
    public const string Visitors = "visitors";
    public const string Widget = "widget";
    public const string Uploads = "uploads";

    public static IServiceCollection AddKefuRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(KefuRateLimitOptions.Section).Get<KefuRateLimitOptions>() ?? new KefuRateLimitOptions();
        return services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Login, ctx => PerIp(ctx, options.LoginsPerMinute));
            limiter.AddPolicy(Visitors, ctx => PerIp(ctx, options.VisitorsPerMinute));
            limiter.AddPolicy(Widget, ctx => PerIp(ctx, options.WidgetPerMinute));
            limiter.AddPolicy(Uploads, ctx => PerParticipant(ctx, options.UploadsPerMinute));

            // Every authenticated request, on top of any endpoint policy. Anonymous requests have their per-address
            // policies; /ws never gets here (it is served before authentication and has its own frame budget).
            // Service keys have their own budget (Kefu:ApiKeys), per key.
            var keys = configuration.GetSection(ApiKeyOptions.Section).Get<ApiKeyOptions>() ?? new ApiKeyOptions();
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
                ctx.User.Identity?.IsAuthenticated == true && ctx.User.IsServiceKey()
                    ? ApiKeyRateLimit.Partition(ctx.User.ToCaller().Id, keys)
                    : options.RestPerMinute > 0 && ctx.User.Identity?.IsAuthenticated == true
                    ? PerMinute("rest:" + ctx.User.ToCaller().ParticipantKey, options.RestPerMinute)
                    : RateLimitPartition.GetNoLimiter("anonymous"));
            limiter.OnRejected = async (ctx, cancellationToken) =>
            {
                if (ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                if (Grpc.GrpcErrors.IsGrpc(ctx.HttpContext))
                {
                    // A gRPC call gets its own status (RESOURCE_EXHAUSTED), not one its client would make up from a 429.
                    await Grpc.GrpcErrors.WriteTrailersOnlyAsync(ctx.HttpContext, global::Grpc.Core.StatusCode.ResourceExhausted, ErrorCodes.RateLimited, "Too many requests; retry later.");
                    return;
                }

                await Problems.Create(StatusCodes.Status429TooManyRequests, ErrorCodes.RateLimited, "Too many requests; retry later.")
                    .ExecuteAsync(ctx.HttpContext);
            };
        });
    }

    private static RateLimitPartition<string> PerIp(HttpContext context, int perMinute) =>
        PerMinute(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", perMinute);

    /// <summary>For authenticated endpoints: one budget per token subject (tenant, role and id).</summary>
    private static RateLimitPartition<string> PerParticipant(HttpContext context, int perMinute) =>
        PerMinute(context.User.Identity?.IsAuthenticated == true ? context.User.ToCaller().ParticipantKey : "anonymous", perMinute);

    private static RateLimitPartition<string> PerMinute(string key, int perMinute) =>
        RateLimitPartition.GetFixedWindowLimiter(
            key,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, perMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
}
