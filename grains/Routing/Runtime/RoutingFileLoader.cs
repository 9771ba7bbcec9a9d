using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Kefu.Grains.Routing.Runtime;

/// <summary>
/// Loads the rules file (<c>Kefu:Routing:File</c>, default <c>config/routing.yaml</c> relative to the working directory)
/// into <c>Kefu:Routing:Tenant</c>'s rules when the silo is up, and again whenever it changes. A missing file loads
/// nothing; an invalid one is logged with line and column and the last good rules stay. Every silo loads it; the same
/// text again changes nothing (the rules grain compares hashes).
/// </summary>
public sealed partial class RoutingFileLoader(
    IGrainFactory grains,
    IOptions<RoutingOptions> options,
    ILogger<RoutingFileLoader> logger) : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private FileSystemWatcher? _watcher;
    private Timer? _debounce;

    public string FullPath => Path.GetFullPath(options.Value.File);

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(RoutingFileLoader), ServiceLifecycleStage.Active, StartAsync, StopAsync);
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
        _stopping.Dispose();
        _gate.Dispose();
    }

    /// <summary>Reads the file and sets the rules; true when they are in force (set or unchanged).</summary>
    public async Task<bool> LoadAsync()
    {
        var path = FullPath;
        await _gate.WaitAsync();
        try
        {
            if (!File.Exists(path))
            {
                LogMissing(logger, path);
                return false;
            }

            string text;
            try
            {
                text = await File.ReadAllTextAsync(path);
            }
            catch (IOException ex)
            {
                LogReadFailed(logger, ex, path); // being written: the watcher fires again when it is done
                return false;
            }

            var tenant = options.Value.Tenant;
            var caller = new Caller(tenant, ParticipantRole.System, "routing-file", "file:" + options.Value.File, IsAdmin: true);
            var result = await grains.GetGrain<IRoutingRulesGrain>(tenant).Set(text, RoutingSources.File, caller);
            if (!result.Succeeded)
            {
                foreach (var problem in result.Problems)
                {
                    LogProblem(logger, path, problem.Line, problem.Column, problem.Message);
                }

                return false;
            }

            if (!result.Unchanged)
            {
                LogLoaded(logger, path, tenant, result.Rules!.Hash, result.Rules.RouteCount);
            }

            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        // Not awaited: the silo does not wait for the rules (a slow storage must not stall its start).
        _ = Task.Run(StartWatchingAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Watches the file and loads it (what the silo does when it is up).</summary>
    public async Task StartWatchingAsync()
    {
        try
        {
            var path = FullPath;
            var directory = Path.GetDirectoryName(path)!;
            if (System.IO.Directory.Exists(directory))
            {
                _watcher = new FileSystemWatcher(directory, Path.GetFileName(path))
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                _watcher.Changed += (_, _) => Schedule();
                _watcher.Created += (_, _) => Schedule();
                _watcher.Renamed += (_, _) => Schedule();
                _watcher.EnableRaisingEvents = true;
            }

            await LoadAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLoadFailed(logger, ex, FullPath);
        }
    }

    private void Schedule()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        // Editors write a file in several steps: load once it has been quiet for a moment.
        _debounce ??= new Timer(_ => ReloadAsync().Ignore(), null, Timeout.Infinite, Timeout.Infinite);
        _debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
    }

    private async Task ReloadAsync()
    {
        try
        {
            await LoadAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogLoadFailed(logger, ex, FullPath);
        }
    }

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        if (_watcher is not null)
        {
            _watcher.EnableRaisingEvents = false;
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Routing rules file {Path} does not exist: no rules loaded from a file")]
    private static partial void LogMissing(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Routing rules loaded from {Path} for tenant {Tenant}: hash {Hash}, {Routes} routes")]
    private static partial void LogLoaded(ILogger logger, string path, string tenant, string hash, int routes);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path}:{Line}:{Column}: {Message} (the rules in force stay)")]
    private static partial void LogProblem(ILogger logger, string path, int line, int column, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing rules file {Path} could not be read")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Loading the routing rules file {Path} failed")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception, string path);
}
