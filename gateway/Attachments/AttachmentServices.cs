using Kefu.Contracts.Grains;
using Kefu.Grains.Attachments;
using Microsoft.Extensions.Options;

namespace Kefu.Gateway.Attachments;

public static class AttachmentServices
{
    /// <summary>The store (shared with the silo's retention job), signed links, the per-address upload limit, and the retention reminder's start.</summary>
    public static IServiceCollection AddKefuAttachments(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddKefuAttachmentStorage(configuration);
        services.Configure<UploadAddressLimitOptions>(configuration.GetSection(UploadAddressLimitOptions.Section));
        services.AddSingleton<UploadAddressLimiter>();
        services.AddSingleton<AttachmentLinks>();
        services.AddHostedService<AttachmentRetentionStarter>();
        return services;
    }
}

/// <summary>
/// Makes sure the retention reminder exists (idempotent, so every gateway does it at start). Retries while the cluster
/// is not reachable yet.
/// </summary>
public sealed partial class AttachmentRetentionStarter(
    IGrainFactory grains, IOptions<AttachmentOptions> options, TimeProvider time, ILogger<AttachmentRetentionStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = grains.GetGrain<IAttachmentRetentionGrain>(0);
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Always started: the reminder is the whole retention job (grains/Retention), also when attachments
                // are kept forever by default, because tenants' own policies and messages' retention run on it too.
                await retention.Start(options.Value.RetentionInterval);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogStartFailed(logger, e);
            }

            await Task.Delay(delay, time, stoppingToken);
            delay = TimeSpan.FromSeconds(Math.Min(30, delay.TotalSeconds * 2));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not schedule the attachment retention reminder yet; retrying.")]
    private static partial void LogStartFailed(ILogger logger, Exception exception);
}
