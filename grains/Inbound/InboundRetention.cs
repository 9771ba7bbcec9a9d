using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Inbound;

/// <summary>
/// Deletes deduplication records older than <see cref="InboundOptions.DedupRetention"/> at silo start and every
/// <see cref="InboundOptions.PruneInterval"/>: nearly every sender id is seen once, so without this the records would
/// grow without end. Every silo runs it; deleting is idempotent.
/// </summary>
public sealed partial class InboundRetention(IInboundRecordStore records, IOptions<InboundOptions> options, TimeProvider time, ILogger<InboundRetention> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.DedupRetention <= TimeSpan.Zero || settings.PruneInterval <= TimeSpan.Zero)
        {
            // Fail the silo's start rather than never prune (or forget every id at once) without a word.
            throw new InvalidOperationException($"{InboundOptions.Section}: DedupRetention and PruneInterval must be positive.");
        }

        using var timer = new PeriodicTimer(settings.PruneInterval, time);
        do
        {
            try
            {
                var pruned = await records.PruneAsync(time.GetUtcNow() - settings.DedupRetention, stoppingToken);
                if (pruned > 0)
                {
                    LogPruned(logger, pruned);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} expired inbound deduplication records")]
    private static partial void LogPruned(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting expired inbound deduplication records failed; retrying at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
