using Orleans;

namespace Kefu.Gateway.Hosting;

/// <summary>
/// Cluster mode: a gateway may start before any silo is up (or all silos may restart); keep trying to connect
/// instead of failing the process.
/// </summary>
public sealed partial class ClusterConnectionRetry(ILogger<ClusterConnectionRetry> logger) : IClientConnectionRetryFilter
{
    private int _attempt;

    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        var attempt = Interlocked.Increment(ref _attempt);
        LogRetry(logger, attempt, exception.Message);
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, attempt)), cancellationToken);
        return !cancellationToken.IsCancellationRequested;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No silo reachable yet (attempt {Attempt}): {Reason}; retrying")]
    private static partial void LogRetry(ILogger logger, int attempt, string reason);
}
