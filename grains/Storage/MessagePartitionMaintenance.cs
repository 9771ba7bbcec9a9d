using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Storage;

/// <summary>
/// Keeps the message table's monthly partitions created three months ahead, at silo start and daily after, so new
/// conversations never land in the catch-all partition. Safe with many silos: each split is idempotent.
/// </summary>
public sealed partial class MessagePartitionMaintenance(MySqlMessageStore store, TimeProvider time, ILogger<MessagePartitionMaintenance> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromDays(1), time);
        do
        {
            try
            {
                var added = await store.EnsurePartitionsAsync(time.GetUtcNow().AddMonths(3), stoppingToken);
                LogEnsured(logger, added);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Message partitions ensured; {Added} added")]
    private static partial void LogEnsured(ILogger logger, int added);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ensure message partitions; retrying tomorrow")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
