using Kefu.Contracts.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Attachments;

/// <summary>
/// Runs <see cref="AttachmentRetention"/> on an Orleans reminder: in memory when embedded, in the MySQL reminder table
/// in cluster mode, so exactly one silo runs it and it outlives restarts. In cluster mode the silo that runs it must see
/// the gateways' shared attachment directory (<c>Kefu:Attachments:Path</c>).
/// </summary>
public sealed partial class AttachmentRetentionGrain(TimeProvider time, ILogger<AttachmentRetentionGrain> logger)
    : Grain, IAttachmentRetentionGrain, IRemindable
{
    private const string ReminderName = "attachment-retention";

    /// <summary>Orleans refuses reminder periods under a minute.</summary>
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);

    public async Task Start(TimeSpan interval)
    {
        var period = interval < MinimumInterval ? MinimumInterval : interval;
        await this.RegisterOrUpdateReminder(ReminderName, MinimumInterval, period);
    }

    public async Task Stop()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // A silo without the attachment store (not expected: AddKefuGrains registers it) has nothing to sweep.
        if (reminderName != ReminderName || ServiceProvider.GetService<AttachmentRetention>() is not { } retention)
        {
            return;
        }

        try
        {
            await retention.SweepAsync(time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The next tick tries again; a reminder callback that throws is only logged by Orleans anyway.
            LogSweepFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attachment retention could not sweep the attachment directory; it retries on the next tick.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
