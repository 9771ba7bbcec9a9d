using Kefu.Contracts.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Retention;

/// <summary>
/// The cluster's one retention job (key 0) on an Orleans reminder: in memory when embedded, in the MySQL reminder table
/// in cluster mode, so exactly one silo runs it at a time and it outlives restarts. One job walking the tenants with a
/// policy, rather than a reminder per tenant: most tenants never set a policy (the defaults are enforced per store for
/// everyone at once), a reminder row per tenant would be work for nothing, and one walker keeps the deletes sequential,
/// so all tenants together never put more than one small chunk at a time on the database.
/// It keeps the old attachment job's interface, key and reminder name, so reminders stored by an older version still
/// fire here. With the disk attachment store, the silo that runs it must see the gateways' shared directory.
/// </summary>
public sealed partial class RetentionJobGrain(ILogger<RetentionJobGrain> logger)
    : Grain, IAttachmentRetentionGrain, IRetentionJobGrain, IRemindable
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
        if (reminderName != ReminderName)
        {
            return;
        }

        try
        {
            await RunNow();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException or OrleansException)
        {
            // The next tick tries again; a reminder callback that throws is only logged by Orleans anyway.
            LogRunFailed(logger, e);
        }
    }

    public async Task<RetentionRunReport> RunNow()
    {
        var job = ServiceProvider.GetRequiredService<RetentionJob>();
        var policies = await GrainFactory.GetGrain<IRetentionRegistryGrain>(0).List();
        return await job.RunAsync(policies, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The retention job could not run; it retries on the next tick.")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);
}
