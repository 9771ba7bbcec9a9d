using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Search;

/// <summary>
/// A tenant's search backfill (docs/search.md "Backfill"): indexes the messages in the message store, so history older
/// than the event log becomes searchable. Started once per tenant by its search indexer, again by an admin
/// (<c>POST /api/v1/conversations/search/reindex</c>). Key: the tenant.
/// </summary>
public interface ISearchBackfillGrain : IGrainWithStringKey
{
    /// <summary>Starts the first run unless the tenant has had one (the indexer's call; cheap once done).</summary>
    Task<SearchBackfillStatus> StartIfNew();

    /// <summary>Starts a run from the first conversation unless one is running (then that one goes on).</summary>
    Task<SearchBackfillStatus> Start();

    Task<SearchBackfillStatus> GetStatus();
}

public static class SearchBackfillStates
{
    /// <summary>Never run for this tenant.</summary>
    public const string None = "none";

    public const string Running = "running";

    public const string Done = "done";
}

/// <summary>
/// A run's progress: <see cref="Conversations"/> walked to the end and <see cref="Messages"/> read from the store in this
/// run (of which <see cref="Indexed"/> had text to index); <see cref="Position"/> is the conversation it is in.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SearchBackfillStatus(
    [property: Id(0)] string State,
    [property: Id(1)] DateTimeOffset? StartedAt,
    [property: Id(2)] DateTimeOffset? CompletedAt,
    [property: Id(3)] long Conversations,
    [property: Id(4)] long Messages,
    [property: Id(5)] long Indexed,
    [property: Id(6)] string? Position,
    [property: Id(7)] int Runs);

[GenerateSerializer]
public sealed class SearchBackfillState
{
    [Id(0)] public string State { get; set; } = SearchBackfillStates.None;

    /// <summary>The walk's position (<see cref="SearchBackfillPosition"/>), stored after every step.</summary>
    [Id(1)] public string? ConversationId { get; set; }

    [Id(2)] public long AfterSeq { get; set; }

    [Id(3)] public long Conversations { get; set; }

    [Id(4)] public long Messages { get; set; }

    [Id(5)] public long Indexed { get; set; }

    [Id(6)] public DateTimeOffset? StartedAt { get; set; }

    [Id(7)] public DateTimeOffset? CompletedAt { get; set; }

    [Id(8)] public int Runs { get; set; }
}

/// <summary>
/// Runs <see cref="SearchBackfill"/> one step per timer tick, with <see cref="SearchOptions.BackfillPause"/> between
/// steps, so a backfill of months of history puts one small read and one insert at a time on the database and never
/// competes with chat for long. The position is stored after each step: a deactivation or a silo restart continues
/// from it (a reminder re-activates the grain while a run is on), and a step done twice is harmless (the index keeps
/// a document it has).
/// </summary>
public sealed partial class SearchBackfillGrain(
    [PersistentState("searchBackfill", KefuStorage.Name)] IPersistentState<SearchBackfillState> state,
    SearchBackfill backfill,
    IOptions<SearchOptions> options,
    TimeProvider time,
    ILogger<SearchBackfillGrain> logger) : Grain, ISearchBackfillGrain, IRemindable
{
    private const string KeepAliveReminder = "search-backfill";

    private IGrainTimer? _timer;

    private string Tenant => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.State == SearchBackfillStates.Running)
        {
            StartTimer();
        }

        return Task.CompletedTask;
    }

    public Task<SearchBackfillStatus> StartIfNew() =>
        state.State.State == SearchBackfillStates.None ? Start() : GetStatus();

    public async Task<SearchBackfillStatus> Start()
    {
        var s = state.State;
        if (s.State != SearchBackfillStates.Running)
        {
            s.State = SearchBackfillStates.Running;
            s.ConversationId = null;
            s.AfterSeq = 0;
            s.Conversations = s.Messages = s.Indexed = 0;
            s.StartedAt = time.GetUtcNow();
            s.CompletedAt = null;
            s.Runs++;
            await state.WriteStateAsync();
            await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            LogStarted(logger, Tenant, s.Runs);
        }

        StartTimer();
        return Status();
    }

    public Task<SearchBackfillStatus> GetStatus() => Task.FromResult(Status());

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask; // the activation resumes the run

    private SearchBackfillStatus Status()
    {
        var s = state.State;
        return new SearchBackfillStatus(s.State, s.StartedAt, s.CompletedAt, s.Conversations, s.Messages, s.Indexed,
            s.State == SearchBackfillStates.Running ? s.ConversationId : null, s.Runs);
    }

    private void StartTimer() =>
        _timer ??= this.RegisterGrainTimer(static (self, cancellation) => self.TickAsync(cancellation), this,
            new GrainTimerCreationOptions(TimeSpan.Zero, options.Value.BackfillPause) { KeepAlive = true });

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var s = state.State;
        if (s.State != SearchBackfillStates.Running)
        {
            return;
        }

        SearchBackfillStep step;
        try
        {
            step = await backfill.StepAsync(Tenant, new SearchBackfillPosition(s.ConversationId, s.AfterSeq), options.Value.BackfillBatchSize, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Nothing was stored: the next tick does the step again from the same position.
            LogStepFailed(logger, ex, Tenant);
            return;
        }

        s.ConversationId = step.Next.ConversationId;
        s.AfterSeq = step.Next.AfterSeq;
        s.Conversations += step.Conversations;
        s.Messages += step.Messages;
        s.Indexed += step.Indexed;
        if (step.Done)
        {
            s.State = SearchBackfillStates.Done;
            s.CompletedAt = time.GetUtcNow();
        }

        await state.WriteStateAsync();
        if (step.Done)
        {
            _timer?.Dispose();
            _timer = null;
            if (await this.GetReminder(KeepAliveReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            LogDone(logger, Tenant, s.Conversations, s.Messages);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Search backfill of tenant {Tenant} started (run {Run})")]
    private static partial void LogStarted(ILogger logger, string tenant, int run);

    [LoggerMessage(Level = LogLevel.Information, Message = "Search backfill of tenant {Tenant} done: {Conversations} conversations, {Messages} messages")]
    private static partial void LogDone(ILogger logger, string tenant, long conversations, long messages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A search backfill step of tenant {Tenant} failed; it is tried again")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string tenant);
}
