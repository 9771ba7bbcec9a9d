using Kefu.Contracts.Grains;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Reports;

[GenerateSerializer]
public sealed class ReportProjectorState
{
    /// <summary>Every event up to here is in the report rows.</summary>
    [Id(0)] public long Cursor { get; set; }

    [Id(1)] public DateTimeOffset? StartedAt { get; set; }

    [Id(2)] public long Projected { get; set; }

    /// <summary>Retention pruned events before the projector read them: conversations of that time may be missing.</summary>
    [Id(3)] public bool CursorExpired { get; set; }
}

/// <summary>
/// A tenant's report projection (docs/reports.md): reads conversation.* and message.created events after a durable cursor
/// (the <see cref="EventLogPump"/> pattern) and writes one fact row per conversation of each page, with its rollup
/// differences, in one store batch — no conversation grain is called. At least once and idempotent: a page is written
/// before its cursor is stored, and the store merges a replayed event into the same row (and so the same counters).
/// Started by the first report query, kept alive by a reminder.
/// </summary>
public sealed partial class ReportProjectorGrain(
    [PersistentState("reportProjector", KefuStorage.Name)] IPersistentState<ReportProjectorState> state,
    IEventLog eventLog,
    IReportStore store,
    ReportWakeups wakeups,
    IOptions<ReportOptions> options,
    TimeProvider time,
    ILogger<ReportProjectorGrain> logger) : Grain, IReportProjectorGrain, IRemindable
{
    private const string KeepAliveReminder = "report-projector";

    private EventLogPump? _pump;

    private string Tenant => this.GetPrimaryKeyString();

    private EventLogPump Pump => _pump ??= new(wakeups, Tenant, PumpAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.StartedAt is not null)
        {
            StartPump();
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _pump?.Stop();
        return Task.CompletedTask;
    }

    public async Task Start()
    {
        if (state.State.StartedAt is null)
        {
            state.State.StartedAt = time.GetUtcNow();
            await state.WriteStateAsync();
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        }

        StartPump();
    }

    public Task Poke() => PumpAsync();

    public async Task CatchUp()
    {
        await Start();
        await PumpAsync();
    }

    public async Task Rewind(long cursor)
    {
        state.State.Cursor = Math.Max(0, cursor);
        await state.WriteStateAsync();
        await CatchUp();
    }

    public Task<ReportProjectorStatus> GetStatus() => Task.FromResult(
        new ReportProjectorStatus(state.State.Cursor, state.State.StartedAt, state.State.Projected, state.State.CursorExpired));

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // activation is the point

    private void StartPump()
    {
        var self = this.AsReference<IReportProjectorGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), options.Value.PollInterval, ReportProjection.ReadTypes.ToHashSet(StringComparer.Ordinal));
    }

    private Task PumpAsync() => Pump.DrainPagesAsync(() => state.State.StartedAt is not null, StepAsync, ex => LogPumpFailed(logger, ex, Tenant));

    /// <summary>One page: its facts written in one batch, then the cursor. True when the page was full (more may follow).</summary>
    private async Task<bool> StepAsync()
    {
        var s = state.State;
        var batch = options.Value.BatchSize;
        var page = await eventLog.ReadAsync(Tenant, s.Cursor, ReportProjection.ReadTypes, batch);
        if (page.CursorExpired && !s.CursorExpired)
        {
            s.CursorExpired = true;
            LogCursorExpired(logger, Tenant, s.Cursor);
        }

        var changes = ReportProjection.ProjectPage(page.Events);
        await store.UpsertAsync(changes.Facts, changes.FirstResponses);
        if (page.Next != s.Cursor)
        {
            s.Cursor = page.Next;
            s.Projected += page.Events.Length;
            await state.WriteStateAsync();
        }

        return page.Events.Length == batch;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Report projection of tenant {Tenant} failed; it tries again from its cursor")]
    private static partial void LogPumpFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Report projection of tenant {Tenant}: events after cursor {Cursor} were pruned before they were read; their conversations may be missing from reports")]
    private static partial void LogCursorExpired(ILogger logger, string tenant, long cursor);
}
