using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Crm;

[GenerateSerializer]
public sealed class CrmSyncState : IBackstopState
{
    [Id(0)] public string State { get; set; } = CrmSyncStates.Pending;

    /// <summary>The newest local version this record was told about (or read).</summary>
    [Id(1)] public long DesiredVersion { get; set; }

    /// <summary>The local version the CRM was last verified to hold.</summary>
    [Id(2)] public long ConfirmedVersion { get; set; }

    [Id(3)] public string? ConfirmedHash { get; set; }

    /// <summary>The CRM's values at the last confirmation: a later read that differs means someone edited the CRM.</summary>
    [Id(4)] public Dictionary<string, string?>? ConfirmedFields { get; set; }

    /// <summary>Failed attempts of the current run (since the last success, a retry or a new local change).</summary>
    [Id(5)] public int Attempts { get; set; }

    [Id(6)] public DateTimeOffset? FailingSince { get; set; }

    [Id(7)] public DateTimeOffset? LastAttemptAt { get; set; }

    [Id(8)] public DateTimeOffset? NextAttemptAt { get; set; }

    [Id(9)] public DateTimeOffset? InSyncAt { get; set; }

    [Id(10)] public string? LastError { get; set; }

    [Id(11)] public int? LastHttpStatus { get; set; }

    [Id(12)] public List<CrmFieldConflict> Conflicts { get; set; } = [];

    /// <summary>crm.sync_failed written with the state and not yet relayed (<see cref="GrainEvents"/>).</summary>
    [Id(13)] public List<DomainEvent> PendingEvents { get; set; } = [];

    [Id(14)] public bool Touched { get; set; }

    [Id(15)] public bool ReminderSet { get; set; }

    /// <summary>Fields a person settled in a conflict: not treated as CRM-side edits by the next attempt.</summary>
    [Id(16)] public List<string> Settled { get; set; } = [];

    /// <summary>
    /// The record's contact was erased (docs/data-protection.md): nothing else is kept, and the record never syncs again,
    /// whatever a trigger, the reconciliation sweep, a reminder or a person asks later.
    /// </summary>
    [Id(17)] public bool Erased { get; set; }
}

/// <summary>What a sync record holds about its Kefu record, for a contact's export (docs/data-protection.md).</summary>
[GenerateSerializer, Immutable]
public sealed record CrmSyncRecordData(
    [property: Id(0)] CrmSyncView View,
    [property: Id(1)] Dictionary<string, string?>? ConfirmedFields);

/// <summary>A sync record's side of a contact's export and erasure: internal to the silo (the data-protection holders).</summary>
public interface ICrmSyncRecordData : IGrainWithStringKey
{
    /// <summary>Null when the record holds nothing (never touched, or erased).</summary>
    Task<CrmSyncRecordData?> Export();

    /// <summary>
    /// Forgets the record's state (the CRM's confirmed values, conflicts, errors, any pending attempt) for good and stops
    /// it from ever syncing again; true when there was something to forget. Never calls the CRM.
    /// </summary>
    Task<bool> Erase();
}

/// <summary>The record's grain hears how its attempt (run off the grain's turn) ended: internal to the silo.</summary>
public interface ICrmSyncAttemptSink : IGrainWithStringKey
{
    Task Completed(Guid attemptId, long version, CrmAttemptResult result);
}

/// <summary>
/// One record in one CRM (docs/crm.md). Local first: it is told about a change only after Kefu committed it, and never
/// makes the chat wait. Level-triggered: each attempt reads the newest local snapshot when it starts, one attempt at a
/// time, so a burst of edits becomes one write and an older write never follows a newer one. An attempt (HTTP, seconds
/// at worst) runs off the grain's turn and reports back through <see cref="ICrmSyncAttemptSink"/>, so <see cref="Touch"/>
/// is always answered at once. Failures wait a full-jitter backoff on a grain timer; a reminder (while not in sync) is
/// the backstop that brings the record back on another silo after a crash.
/// </summary>
public sealed partial class CrmSyncGrain(
    [PersistentState("crmSync", KefuStorage.Name)] IPersistentState<CrmSyncState> state,
    CrmSyncAttempt attempt,
    CrmMetrics metrics,
    IOptionsMonitor<CrmOptions> options,
    IEventLog eventLog,
    TimeProvider time,
    ILogger<CrmSyncGrain> logger) : Grain, ICrmSyncGrain, ICrmSyncAttemptSink, ICrmSyncRecordData, IRemindable
{
    private const string BackstopReminder = "crm-sync";
    private const string ErasedState = "erased";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>How long an erasure waits for an attempt already on its way to the CRM (each CRM call has its own, shorter timeout).</summary>
    private static readonly TimeSpan AttemptDrain = TimeSpan.FromSeconds(30);

    /// <summary>Local history beyond this many messages is left out of a conversation's transcript.</summary>
    private const int MaxTranscriptMessages = 2_000;

    private DueTimer? _due;
    private Guid? _inFlight;

    /// <summary>Ends when the running attempt's CRM calls are over (before its result is handed back).</summary>
    private Task? _attemptCalls;

    /// <summary>A newer local change was announced while the attempt ran (its snapshot may predate it): one more attempt.</summary>
    private bool _touchedDuringAttempt;

    private (string Tenant, string Crm, string Kind, string RecordId) Key => CrmSyncKeys.Split(this.GetPrimaryKeyString());

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);
        if (state.State is { Touched: true, State: CrmSyncStates.Pending } s)
        {
            Schedule(s.NextAttemptAt ?? time.GetUtcNow());
        }
    }

    public async Task Touch(long version)
    {
        var s = state.State;
        if (s.Erased)
        {
            return; // a trigger or the sweep behind the erasure: the record is never synced again
        }

        var now = time.GetUtcNow();
        var newer = version > s.DesiredVersion;
        if (s.Touched && !newer && !(s.State == CrmSyncStates.InSync && version == 0))
        {
            return; // told before (a redelivered trigger): nothing to remember twice
        }

        s.Touched = true;
        s.DesiredVersion = Math.Max(s.DesiredVersion, version);
        _touchedDuringAttempt |= newer && _inFlight is not null;
        switch (s.State)
        {
            case CrmSyncStates.InSync:
                // version 0: the reconciliation sweep asks for a read-back of a record believed in sync.
                Restart(s);
                break;
            case CrmSyncStates.Failed or CrmSyncStates.Dead when newer:
                Restart(s); // a new local change may be what the CRM was waiting for
                break;
            default:
                break; // pending: the running or next attempt reads the newest snapshot; conflict: waits for a person
        }

        await SaveAsync();
        if (s.State == CrmSyncStates.Pending && (s.NextAttemptAt is null || s.NextAttemptAt <= now))
        {
            // (A record backing off after failures keeps its wait: the CRM was failing, a new edit does not change that.)
            Schedule(now);
        }
    }

    public Task<CrmSyncView?> Get() => Task.FromResult(state.State.Touched ? View() : null);

    public async Task<CrmSyncView?> Retry()
    {
        var s = state.State;
        if (!s.Touched)
        {
            return null;
        }

        Restart(s);
        s.Conflicts.Clear();
        await SaveAsync();
        Schedule(time.GetUtcNow());
        return View();
    }

    public async Task<Outcome<CrmSyncView>> Resolve(Dictionary<string, string> choices)
    {
        ArgumentNullException.ThrowIfNull(choices);
        var s = state.State;
        if (s.State != CrmSyncStates.Conflict)
        {
            return new KefuError(ErrorCodes.InvalidState, "The record is not in conflict.");
        }

        var byField = s.Conflicts.ToDictionary(c => c.Field, StringComparer.Ordinal);
        foreach (var (field, choice) in choices)
        {
            if (!byField.ContainsKey(field) || choice is not ("kefu" or "crm"))
            {
                return new KefuError(ErrorCodes.InvalidField, $"Choose \"kefu\" or \"crm\" for each field in conflict ({string.Join(", ", byField.Keys)}); {field} is not one.");
            }
        }

        if (byField.Keys.FirstOrDefault(f => !choices.ContainsKey(f)) is { } missing)
        {
            return new KefuError(ErrorCodes.MissingField, $"Choose a value for {missing}.");
        }

        var adopt = choices.Where(c => c.Value == "crm").ToDictionary(c => c.Key, c => byField[c.Key].Crm, StringComparer.Ordinal);
        if (adopt.Count > 0 && await AdoptAsync(adopt) is { } failed)
        {
            return failed;
        }

        s.Settled = [.. choices.Keys];
        Restart(s);
        s.Conflicts.Clear();
        await SaveAsync();
        Schedule(time.GetUtcNow());
        return View();
    }

    public Task<CrmSyncRecordData?> Export() =>
        Task.FromResult(state.State is { Erased: false, Touched: true } s ? new CrmSyncRecordData(View(), s.ConfirmedFields) : null);

    public async Task<bool> Erase()
    {
        // An attempt already on its way finishes its CRM calls first, so none of them reaches the CRM after the erasure
        // has answered; its result then finds no attempt in flight and is ignored.
        if (_attemptCalls is { IsCompleted: false } calls)
        {
            try
            {
                await calls.WaitAsync(AttemptDrain);
            }
            catch (TimeoutException)
            {
                // A CRM that hangs past every timeout: the erasure goes on; the attempt's result is ignored all the same.
            }
        }

        _inFlight = null;
        _attemptCalls = null;
        _due?.Cancel();
        var old = state.State;
        if (old.Erased)
        {
            return false;
        }

        // Events written with the state and not yet relayed (crm.sync_failed) go out first, so the event log's own
        // erasure blanks them like every other event of the contact (docs/data-protection.md).
        if (!await GrainEvents.RelayAsync(eventLog, old.PendingEvents))
        {
            throw new InvalidOperationException("The event log is unavailable; the erasure of the CRM sync record is retried.");
        }

        var had = old.Touched || old.ConfirmedFields is not null;
        state.State = new CrmSyncState { Erased = true, State = ErasedState, ReminderSet = old.ReminderSet };
        await state.WriteStateAsync();
        await DropReminderAsync();
        return had;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var s = state.State;
        if (s.State == CrmSyncStates.Pending && !s.Erased)
        {
            Schedule(s.NextAttemptAt is { } next && next > time.GetUtcNow() ? next : time.GetUtcNow());
            return Task.CompletedTask;
        }

        return DropReminderAsync();
    }

    public async Task Completed(Guid attemptId, long version, CrmAttemptResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (_inFlight != attemptId)
        {
            return; // an attempt of an earlier activation: its record has moved on
        }

        _inFlight = null;
        var s = state.State;
        var now = time.GetUtcNow();
        var (_, crm, kind, _) = Key;
        var connector = Connector();
        s.LastAttemptAt = now;
        metrics.Attempt(crm, kind, result.Outcome, result.Requests);
        switch (result.Outcome)
        {
            case CrmAttemptOutcome.InSync:
                s.ConfirmedVersion = Math.Max(s.ConfirmedVersion, version);

                // The snapshot was read after every change announced before the attempt started: it is the truth (an
                // announced version may be a little off the record's own). A change announced since: one more attempt.
                s.DesiredVersion = _touchedDuringAttempt ? Math.Max(s.DesiredVersion, version) : s.ConfirmedVersion;
                s.ConfirmedHash = result.Hash;
                s.ConfirmedFields = result.CrmFields;
                s.Attempts = 0;
                s.FailingSince = null;
                s.NextAttemptAt = null;
                s.LastError = null;
                s.LastHttpStatus = null;
                s.Settled.Clear();
                s.InSyncAt = now;
                metrics.InSync(crm, kind, version, now);
                s.State = _touchedDuringAttempt ? CrmSyncStates.Pending : CrmSyncStates.InSync;
                break;
            case CrmAttemptOutcome.Adopt:
                if (await AdoptAsync(result.Adopt ?? []) is { } adoptFailed)
                {
                    Fail(s, connector, now, adoptFailed.Message, null, null);
                }

                break;
            case CrmAttemptOutcome.Conflict:
                s.State = CrmSyncStates.Conflict;
                s.Conflicts = [.. result.Conflicts ?? []];
                s.LastError = "changed in Kefu and in the CRM: " + string.Join(", ", s.Conflicts.Select(c => c.Field));
                break;
            case CrmAttemptOutcome.Failed:
                s.State = CrmSyncStates.Failed;
                s.Attempts++;
                s.FailingSince ??= now;
                s.LastError = result.Error;
                s.LastHttpStatus = result.HttpStatus;
                s.NextAttemptAt = null;
                LogFailed(logger, crm, kind, Key.RecordId, result.HttpStatus, result.Error);
                break;
            default:
                Fail(s, connector, now, result.Error, result.HttpStatus, result.RetryAfter);
                break;
        }

        await SaveAsync();
        if (s.State == CrmSyncStates.Pending)
        {
            Schedule(s.NextAttemptAt ?? now);
        }
        else
        {
            await DropReminderAsync();
        }
    }

    /// <summary>A failed attempt that may succeed later: the next one after a full-jitter backoff, or dead past the limits.</summary>
    private void Fail(CrmSyncState s, CrmConnectorOptions? connector, DateTimeOffset now, string? error, int? httpStatus, TimeSpan? retryAfter)
    {
        var retry = connector?.Retry ?? new CrmRetryOptions();
        s.Attempts++;
        s.FailingSince ??= now;
        s.LastError = error;
        s.LastHttpStatus = httpStatus;
        if (s.Attempts >= retry.MaxAttempts || now - s.FailingSince >= retry.MaxAge)
        {
            s.State = CrmSyncStates.Dead;
            s.NextAttemptAt = null;
            var (tenant, crm, kind, recordId) = Key;
            s.PendingEvents.Add(GrainEvents.Create(tenant, new CrmSyncFailed(crm, kind, recordId, s.Attempts, error, httpStatus, s.FailingSince),
                Causation.Of("crm:" + crm), now));
            LogDead(logger, crm, kind, recordId, s.Attempts, error);
            return;
        }

        s.NextAttemptAt = now + CrmBackoff.Delay(retry, s.Attempts, retryAfter, Random.Shared.NextDouble());
    }

    private static void Restart(CrmSyncState s)
    {
        s.State = CrmSyncStates.Pending;
        s.Attempts = 0;
        s.FailingSince = null;
        s.NextAttemptAt = null;
    }

    /// <summary>Writes the state (with any event, relayed right after), keeps the backstop reminder while work is left, and tells the index.</summary>
    private async Task SaveAsync()
    {
        var s = state.State;
        var remind = s.State == CrmSyncStates.Pending && !s.ReminderSet;
        s.ReminderSet |= remind;
        await state.WriteStateAsync();
        await GrainEvents.RelayAsync(eventLog, s.PendingEvents);
        if (remind)
        {
            await this.RegisterOrUpdateReminder(BackstopReminder, ReminderPeriod, ReminderPeriod);
        }

        GrainFactory.GetGrain<ICrmSyncIndexGrain>(Key.Tenant).Report(View()).Ignore();
    }

    private Task DropReminderAsync() => DueTimer.DropBackstopAsync(this, BackstopReminder, state);

    /// <summary>An attempt at <paramref name="at"/> (one timer; a sooner request replaces a later one).</summary>
    private void Schedule(DateTimeOffset at) => (_due ??= new(this, time, StartAttemptAsync)).Schedule(at);

    private async Task StartAttemptAsync()
    {
        var s = state.State;
        if (_inFlight is not null || s.State != CrmSyncStates.Pending || s.Erased)
        {
            return;
        }

        var (tenant, crm, kind, recordId) = Key;
        if (Connector() is not { } connector || (kind == CrmRecordKinds.Contact ? connector.Contacts : connector.Conversations) is not { } record)
        {
            // The CRM (or this kind of record) was removed from configuration: nothing to do until it is back.
            LogNotConfigured(logger, crm, kind, recordId);
            await DropReminderAsync();
            return;
        }

        var snapshot = await SnapshotAsync(tenant, kind, recordId);
        if (snapshot is null)
        {
            s.State = CrmSyncStates.Failed;
            s.LastError = $"the {kind} no longer exists in Kefu";
            await SaveAsync();
            await DropReminderAsync();
            return;
        }

        s.DesiredVersion = Math.Max(s.DesiredVersion, snapshot.Version);
        var input = new CrmAttemptInput(tenant, crm, connector, record, kind, recordId, snapshot,
            s.ConfirmedFields, s.Settled.Count > 0 ? s.Settled.ToHashSet(StringComparer.Ordinal) : null);
        var id = Guid.NewGuid();
        _inFlight = id;
        _touchedDuringAttempt = false;
        var self = this.AsReference<ICrmSyncAttemptSink>();
        var calls = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _attemptCalls = calls.Task;

        // Off the grain's turn (the thread pool, not the grain's scheduler): the grain keeps answering while the CRM is slow.
        _ = Task.Run(async () =>
        {
            CrmAttemptResult result;
            try
            {
                result = await attempt.RunAsync(input, CancellationToken.None);
            }
#pragma warning disable CA1031 // whatever went wrong is a failed attempt, retried like any other
            catch (Exception ex)
#pragma warning restore CA1031
            {
                result = new CrmAttemptResult(CrmAttemptOutcome.Retry, Error: ex.Message);
            }

            calls.TrySetResult();
            try
            {
                await self.Completed(id, snapshot.Version, result);
            }
#pragma warning disable CA1031 // the grain is gone: its reminder starts the record again
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        });
    }

    private async Task<CrmSnapshot?> SnapshotAsync(string tenant, string kind, string recordId)
    {
        if (kind == CrmRecordKinds.Contact)
        {
            return await GrainFactory.GetGrain<IContactGrain>(Tenancy.Key(tenant, recordId)).Get() is { } contact ? CrmFields.Of(contact) : null;
        }

        var conversation = GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(tenant, recordId));
        if (await conversation.GetSummary() is not { } summary)
        {
            return null;
        }

        var reader = new Caller(tenant, ParticipantRole.Agent, "crm-sync", "CRM sync", IsAdmin: true);
        var messages = new List<ChatMessage>();
        var after = 0L;
        while (messages.Count < MaxTranscriptMessages)
        {
            var page = await conversation.GetMessages(reader, after, 200);
            if (page.Value is not { Messages.Length: > 0 } got)
            {
                break;
            }

            messages.AddRange(got.Messages);
            after = got.Messages[^1].Seq;
            if (after >= got.LastSeq)
            {
                break;
            }
        }

        var profile = await GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, summary.VisitorId)).GetProfile();
        return CrmFields.Of(summary, profile?.ContactId, messages);
    }

    /// <summary>crm_wins / newest_wins / a person's choice: the CRM's values become Kefu's (a contact update by the CRM).</summary>
    private async Task<KefuError?> AdoptAsync(IReadOnlyDictionary<string, string?> fields)
    {
        var (tenant, crm, kind, recordId) = Key;
        if (kind != CrmRecordKinds.Contact)
        {
            return null;
        }

        var attributes = fields.Where(f => f.Key.StartsWith(CrmFields.AttributePrefix, StringComparison.Ordinal))
            .ToDictionary(f => f.Key[CrmFields.AttributePrefix.Length..], f => f.Value, StringComparer.Ordinal);
        var patch = new ContactPatch(
            fields.TryGetValue("name", out var name) ? name ?? string.Empty : null,
            fields.TryGetValue("email", out var email) ? email ?? string.Empty : null,
            attributes.Count > 0 ? attributes : null);
        var outcome = await GrainFactory.GetGrain<IContactGrain>(Tenancy.Key(tenant, recordId)).Update(patch, Causation.Of("crm:" + crm));
        if (outcome.Value is { } contact)
        {
            state.State.DesiredVersion = Math.Max(state.State.DesiredVersion, contact.UpdatedAt.UtcTicks);
            state.State.State = CrmSyncStates.Pending;
            return null;
        }

        return outcome.Error;
    }

    private CrmConnectorOptions? Connector()
    {
        var (tenant, crm, _, _) = Key;
        return options.CurrentValue.Connectors.TryGetValue(crm, out var c) && c.Tenant == tenant ? c : null;
    }

    private CrmSyncView View()
    {
        var s = state.State;
        var (_, crm, kind, recordId) = Key;
        return new CrmSyncView(crm, kind, recordId, s.State, s.DesiredVersion, s.ConfirmedVersion, s.Attempts, s.LastAttemptAt,
            s.State == CrmSyncStates.Pending ? s.NextAttemptAt : null, s.InSyncAt, s.LastError, s.LastHttpStatus, [.. s.Conflicts], s.FailingSince);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRM {Crm}: {Kind} {RecordId} refused (HTTP {Status}): {Error}; parked until it changes or is retried")]
    private static partial void LogFailed(ILogger logger, string crm, string kind, string recordId, int? status, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "CRM {Crm}: gave up on {Kind} {RecordId} after {Attempts} attempts: {Error}")]
    private static partial void LogDead(ILogger logger, string crm, string kind, string recordId, int attempts, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRM {Crm} is not configured for {Kind} records: {RecordId} waits")]
    private static partial void LogNotConfigured(ILogger logger, string crm, string kind, string recordId);
}
