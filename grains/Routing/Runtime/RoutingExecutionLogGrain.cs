using Kefu.Contracts.Grains;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Routing.Runtime;

[GenerateSerializer]
public sealed class RoutingExecutionLogState
{
    /// <summary>Oldest first, at most <see cref="RoutingOptions.ExecutionLogSize"/>.</summary>
    [Id(0)] public List<RouteExecutionRecord> Records { get; set; } = [];
}

/// <summary>
/// A tenant's recent route executions for the API and console (key: the tenant). Written at most once a second and on
/// deactivation: it is a window for people; the event log's route.executed events are the complete record.
/// </summary>
public sealed class RoutingExecutionLogGrain(
    [PersistentState("routingExecutions", KefuStorage.Name)] IPersistentState<RoutingExecutionLogState> state,
    IOptions<RoutingOptions> options) : Grain, IRoutingExecutionLogGrain, IRoutingExecutionRecorder
{
    private static readonly TimeSpan WriteDelay = TimeSpan.FromSeconds(1);
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private bool _dirty;
    private IGrainTimer? _flush;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _ids.UnionWith(state.State.Records.Select(r => r.EventId));
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public Task Add(RouteExecutionRecord[] records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = state.State.Records;
        foreach (var record in records)
        {
            if (_ids.Add(record.EventId))
            {
                list.Add(record);
                _dirty = true;
            }
        }

        var excess = list.Count - Math.Max(1, options.Value.ExecutionLogSize);
        if (excess > 0)
        {
            foreach (var old in list.Take(excess))
            {
                _ids.Remove(old.EventId);
            }

            list.RemoveRange(0, excess);
        }

        if (_dirty && _flush is null)
        {
            _flush = this.RegisterGrainTimer(static async (self, _) => await self.FlushAsync(), this, new GrainTimerCreationOptions(WriteDelay, Timeout.InfiniteTimeSpan));
        }

        return Task.CompletedTask;
    }

    public Task<RouteExecutionRecord[]> Recent(int limit, string? routeId, string? outcome)
    {
        var records = state.State.Records.AsEnumerable().Reverse();
        if (routeId is not null)
        {
            records = records.Where(r => r.Execution.RouteId == routeId);
        }

        if (outcome is not null)
        {
            records = records.Where(r => r.Execution.Outcome == outcome);
        }

        return Task.FromResult(records.Take(Math.Clamp(limit, 1, 500)).ToArray());
    }

    private async Task FlushAsync()
    {
        _flush?.Dispose();
        _flush = null;
        if (_dirty)
        {
            _dirty = false;
            await state.WriteStateAsync();
        }
    }
}
