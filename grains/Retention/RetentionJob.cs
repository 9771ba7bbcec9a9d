using Kefu.Grains.Attachments;
using Kefu.Grains.DataProtection;
using Kefu.Grains.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Retention;

/// <summary>
/// One run of the retention job: for every tenant with a policy of its own, turn it into <see cref="RetentionCutoffs"/>
/// and call every registered <see cref="IRetentionHolder"/> in chunks of <see cref="RetentionOptions.ChunkSize"/> rows,
/// again while a holder deletes a full chunk, pausing between chunks so writers keep the disk. Then the default for
/// everyone else: attachments older than <c>Kefu:Attachments:RetentionDays</c> (skipping tenants with their own
/// attachment policy, which may be longer). Default event retention stays with each event log (it prunes everyone by
/// <c>Kefu:Events:Retention</c> itself) and messages have no default (kept forever). A holder that fails is logged and
/// skipped for this run; the others go on.
/// </summary>
public sealed partial class RetentionJob(
    IEnumerable<IRetentionHolder> holders,
    AttachmentRetention attachments,
    IOptions<RetentionOptions> options,
    IOptions<AttachmentOptions> attachmentOptions,
    IOptions<EventLogOptions> eventOptions,
    TimeProvider time,
    ILogger<RetentionJob> logger)
{
    private readonly IRetentionHolder[] _holders = [.. holders];

    public async Task<RetentionRunReport> RunAsync(IReadOnlyDictionary<string, RetentionPolicy> policies, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.ChunkSize < 1 || settings.MaxChunksPerRun < 1 || settings.ChunkPause < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{RetentionOptions.Section}: ChunkSize and MaxChunksPerRun must be at least 1, ChunkPause not negative.");
        }

        var now = time.GetUtcNow();
        var defaults = RetentionDefaults.From(attachmentOptions.Value, eventOptions.Value);
        var deleted = _holders.ToDictionary(h => h.Name, _ => 0L, StringComparer.Ordinal);
        foreach (var (tenant, policy) in policies.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var cutoffs = RetentionRules.Cutoffs(policy, defaults, now);
            foreach (var holder in _holders)
            {
                deleted[holder.Name] += await PruneTenantAsync(holder, tenant, cutoffs, settings, cancellationToken);
            }
        }

        var own = policies.Where(p => p.Value.AttachmentsDays is not null).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        try
        {
            deleted[AttachmentRetention.HolderName] = deleted.GetValueOrDefault(AttachmentRetention.HolderName) + await attachments.SweepAsync(now, own, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHolderFailed(logger, AttachmentRetention.HolderName, "(default)", e);
        }

        var report = new RetentionRunReport(now, deleted, policies.Count);
        if (deleted.Values.Any(n => n > 0))
        {
            LogRun(logger, policies.Count, string.Join(", ", deleted.Select(d => $"{d.Key} {d.Value}")));
        }

        return report;
    }

    private async Task<long> PruneTenantAsync(IRetentionHolder holder, string tenant, RetentionCutoffs cutoffs, RetentionOptions settings, CancellationToken cancellationToken)
    {
        long total = 0;
        try
        {
            for (var chunk = 0; chunk < settings.MaxChunksPerRun; chunk++)
            {
                var n = await holder.PruneAsync(tenant, cutoffs, settings.ChunkSize, cancellationToken);
                total += n;
                if (n < settings.ChunkSize)
                {
                    break;
                }

                // Leave the database to the writers for a moment before the next chunk.
                await Task.Delay(settings.ChunkPause, time, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogHolderFailed(logger, holder.Name, tenant, e);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: {Tenants} tenants with a policy of their own; deleted {Deleted}.")]
    private static partial void LogRun(ILogger logger, int tenants, string deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention: the {Holder} holder failed for tenant {Tenant}; it is retried on the next run.")]
    private static partial void LogHolderFailed(ILogger logger, string holder, string tenant, Exception exception);
}
