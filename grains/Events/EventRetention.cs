using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Events;

/// <summary>
/// Cluster mode: deletes events older than <see cref="EventLogOptions.Retention"/> at silo start and every
/// <see cref="EventLogOptions.PruneInterval"/>, in small chunks (<see cref="MySqlEventLog.PruneAsync"/>). Every silo
/// runs it; pruning is idempotent, so overlapping runs only repeat a cheap SELECT.
/// </summary>
public sealed partial class EventRetention(MySqlEventLog log, IOptions<EventLogOptions> options, TimeProvider time, ILogger<EventRetention> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Retention <= TimeSpan.Zero || settings.PruneInterval <= TimeSpan.Zero || settings.PruneChunk < 1 || settings.PrunePause < TimeSpan.Zero)
        {
            // Fail the silo's start rather than never prune (or prune everything) without a word.
            throw new InvalidOperationException(
                $"{EventLogOptions.Section}: Retention and PruneInterval must be positive, PruneChunk at least 1, PrunePause not negative.");
        }

        using var timer = new PeriodicTimer(settings.PruneInterval, time);
        do
        {
            try
            {
                await log.PruneAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning old events failed; retrying at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
