using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Contracts.Webhooks;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Webhooks;

[GenerateSerializer]
public sealed class WebhookEndpointState
{
    [Id(0)] public WebhookEndpoint? Endpoint { get; set; }

    /// <summary>Newest first; a previous secret signs too until it expires (a rotation's overlap).</summary>
    [Id(1)] public List<WebhookSecret> Secrets { get; set; } = [];

    /// <summary>Every event up to here was delivered or is in <see cref="Retries"/> (or was final): the durable cursor.</summary>
    [Id(2)] public long Cursor { get; set; }

    [Id(3)] public List<WebhookRetry> Retries { get; set; } = [];

    [Id(4)] public DateTimeOffset? FailingSince { get; set; }

    [Id(5)] public int ConsecutiveFailures { get; set; }

    [Id(6)] public DateTimeOffset? CircuitOpenUntil { get; set; }

    /// <summary>The receiver asked for a pause (<c>Retry-After</c>): nothing is sent to it before.</summary>
    [Id(7)] public DateTimeOffset? PausedUntil { get; set; }

    [Id(8)] public DateTimeOffset? LastSuccessAt { get; set; }

    /// <summary>webhook.endpoint_disabled written with the state and not yet relayed (<see cref="GrainEvents"/>).</summary>
    [Id(9)] public List<DomainEvent> PendingEvents { get; set; } = [];

    [Id(10)] public DateTimeOffset? SecretRotatedAt { get; set; }
}

[GenerateSerializer, Immutable]
public sealed record WebhookSecret([property: Id(0)] string Secret, [property: Id(1)] DateTimeOffset? ExpiresAt);

/// <summary>A failed delivery waiting for its next attempt (the event itself stays in the event log).</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookRetry(
    [property: Id(0)] long Cursor,
    [property: Id(1)] Ulid EventId,
    [property: Id(2)] string Type,
    [property: Id(3)] int Attempts,
    [property: Id(4)] DateTimeOffset DueAt);

[GenerateSerializer]
public sealed class WebhookLogState
{
    /// <summary>Oldest first, at most <see cref="WebhookOptions.DeliveryLogSize"/>.</summary>
    [Id(0)] public List<WebhookDelivery> Attempts { get; set; } = [];
}

/// <summary>
/// One webhook endpoint and its delivery (INTEGRATION.md §5, docs/integration.md §10). Delivery reads the tenant's event
/// log after a durable cursor; each step attempts a batch (at most <see cref="WebhookOptions.MaxConcurrency"/> requests at
/// a time) and then writes, in one state write, the new cursor and the failed deliveries with their next attempt time.
/// A silo that dies before that write leaves the cursor where it was, so the batch is delivered again: at least once,
/// and receivers drop repeats by <c>webhook-id</c>. The pump runs on an interleaving timer (API calls are answered while
/// requests are in flight) and is woken by <see cref="WebhookWakeups"/>; a reminder reactivates the endpoint after a
/// silo is lost.
/// </summary>
public sealed partial class WebhookEndpointGrain(
    [PersistentState("webhook", KefuStorage.Name)] IPersistentState<WebhookEndpointState> state,
    [PersistentState("webhookLog", KefuStorage.Name)] IPersistentState<WebhookLogState> log,
    IEventLog eventLog,
    WebhookSender sender,
    WebhookWakeups wakeups,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookEndpointGrain> logger) : Grain, IWebhookEndpointGrain, IRemindable
{
    private const string KeepAliveReminder = "webhook-keepalive";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private readonly WebhookOptions _options = options.Value;
    private readonly TimeSpan[] _schedule = options.Value.RetryDelays();
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>Event bodies of pending retries seen by this activation (after a reactivation they are read from the log again).</summary>
    private readonly Dictionary<long, StoredEvent> _bodies = [];

    /// <summary>Conversation id → inbox, for the inbox filter.</summary>
    private readonly Dictionary<string, string?> _inboxes = new(StringComparer.Ordinal);

    private EventLogPump? _pump;
    private bool _logDirty;
    private DateTimeOffset _logWrittenAt;

    /// <summary>Bumped by a replay or a delete: a step in flight then does not move the cursor it read from.</summary>
    private int _generation;

    private (string Tenant, string Id) Key => Tenancy.Split(this.GetPrimaryKeyString());

    private EventLogPump Pump => _pump ??= new(wakeups, Key.Tenant, DrainAsync);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);
        if (state.State.Endpoint is not null)
        {
            Start();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Stop();
        if (_logDirty && state.State.Endpoint is not null)
        {
            await WriteLogAsync();
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Activation started the pump; the tick only has to exist (it brings the endpoint back on another silo).
        if (state.State.Endpoint is not null)
        {
            Wake();
        }

        return Task.CompletedTask;
    }

    public async Task<Outcome<WebhookEndpointWithSecret>> Create(WebhookEndpointDraft draft, Causation causation)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (state.State.Endpoint is not null)
        {
            return new KefuError(ErrorCodes.Conflict, "This endpoint exists.");
        }

        var now = time.GetUtcNow();
        var endpoint = new WebhookEndpoint(Key.Id, draft.Url, draft.Events, draft.Inboxes is { Length: > 0 } ? draft.Inboxes : null,
            draft.Description, Enabled: true, DisabledReason: null, now, now);
        if (WebhookRules.Validate(endpoint, _options.AllowPrivateTargets) is { } error)
        {
            return error;
        }

        var secret = WebhookSignature.NewSecret();
        state.State = new WebhookEndpointState
        {
            Endpoint = endpoint,
            Secrets = [new WebhookSecret(secret, null)],
            Cursor = await HeadAsync(Key.Tenant), // events from now on
        };
        await WriteAsync();
        await GrainFactory.GetGrain<IWebhookDirectoryGrain>(Key.Tenant).Add(Key.Id);
        await this.RegisterOrUpdateReminder(KeepAliveReminder, ReminderPeriod, ReminderPeriod);
        Start();
        return new WebhookEndpointWithSecret(View(), secret);
    }

    public Task<WebhookEndpointView?> Get() => Task.FromResult(state.State.Endpoint is null ? null : View());

    public async Task<Outcome<WebhookEndpointView>> Update(WebhookEndpointPatch patch, Causation causation)
    {
        ArgumentNullException.ThrowIfNull(patch);
        if (state.State.Endpoint is not { } current)
        {
            return KefuError.NotFound("Webhook endpoint");
        }

        var applied = WebhookRules.Apply(current, patch, _options.AllowPrivateTargets, time.GetUtcNow());
        if (applied.Value is not { } updated)
        {
            return applied.Error!;
        }

        state.State.Endpoint = updated;
        if (updated.Enabled && !current.Enabled)
        {
            // Re-enabled: what waited is due now (from the cursor and the pending retries; nothing was dropped).
            var now = time.GetUtcNow();
            state.State.ConsecutiveFailures = 0;
            state.State.FailingSince = null;
            state.State.CircuitOpenUntil = null;
            state.State.PausedUntil = null;
            state.State.Retries = [.. state.State.Retries.Select(r => r with { DueAt = now })];
        }

        await WriteAsync();
        Wake();
        return View();
    }

    public async Task<bool> Delete()
    {
        if (state.State.Endpoint is null)
        {
            return false;
        }

        _generation++;
        Stop();
        state.State = new WebhookEndpointState { PendingEvents = state.State.PendingEvents };
        log.State = new WebhookLogState();
        await WriteAsync();
        await _writeGate.WaitAsync();
        try
        {
            await log.ClearStateAsync();
        }
        finally
        {
            _writeGate.Release();
        }

        await GrainFactory.GetGrain<IWebhookDirectoryGrain>(Key.Tenant).Remove(Key.Id);
        if (await this.GetReminder(KeepAliveReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        DeactivateOnIdle();
        return true;
    }

    public async Task<Outcome<WebhookEndpointWithSecret>> RotateSecret()
    {
        if (state.State.Endpoint is null)
        {
            return KefuError.NotFound("Webhook endpoint");
        }

        var now = time.GetUtcNow();
        var secret = WebhookSignature.NewSecret();
        var until = now + _options.SecretOverlap;
        state.State.Secrets =
        [
            new WebhookSecret(secret, null),
            .. state.State.Secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s with { ExpiresAt = s.ExpiresAt is { } e && e < until ? e : until }),
        ];
        state.State.SecretRotatedAt = now;
        await WriteAsync();
        return new WebhookEndpointWithSecret(View(), secret);
    }

    public Task<WebhookDelivery[]> GetDeliveries(string? status, int limit)
    {
        var attempts = log.State.Attempts.AsEnumerable().Reverse();
        if (status is not null)
        {
            attempts = attempts.Where(a => a.Status == status);
        }

        return Task.FromResult(attempts.Take(Math.Clamp(limit, 1, _options.DeliveryLogSize)).ToArray());
    }

    public async Task<Outcome<long>> Replay(long after)
    {
        if (state.State.Endpoint is null)
        {
            return KefuError.NotFound("Webhook endpoint");
        }

        if (after < 0 || after > state.State.Cursor)
        {
            return KefuError.Invalid("after must be a cursor this endpoint has already passed (from a delivered event's envelope).");
        }

        _generation++;
        state.State.Cursor = after;
        await WriteAsync();
        Wake();
        return after;
    }

    public async Task<Outcome<bool>> Retry(string deliveryId)
    {
        if (state.State.Endpoint is null)
        {
            return KefuError.NotFound("Webhook endpoint");
        }

        if (log.State.Attempts.FindLast(a => a.Id == deliveryId) is not { } attempt)
        {
            return KefuError.NotFound("Delivery");
        }

        var now = time.GetUtcNow();
        var retries = state.State.Retries;
        var existing = retries.FindIndex(r => r.EventId.ToString() == attempt.EventId);
        var retry = new WebhookRetry(attempt.Cursor, Ulid.Parse(attempt.EventId), attempt.EventType, existing >= 0 ? retries[existing].Attempts : 0, now);
        if (existing >= 0)
        {
            retries[existing] = retry;
        }
        else
        {
            retries.Add(retry);
        }

        // Asked for by a person: it goes now, whatever the circuit or a pause said.
        state.State.CircuitOpenUntil = null;
        state.State.PausedUntil = null;
        await WriteAsync();
        Wake();
        return true;
    }

    public Task Poke()
    {
        Wake();
        return Task.CompletedTask;
    }

    private void Start()
    {
        var self = this.AsReference<IWebhookEndpointGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), _options.PollInterval);
    }

    private void Stop() => _pump?.Stop();

    /// <summary>Runs the pump now (it continues while steps find work) unless it is running, which then takes another look.</summary>
    private void Wake() => Pump.Wake(state.State.Endpoint is not null);

    private async Task DrainAsync()
    {
        try
        {
            await Pump.RunAsync(async () =>
            {
                while (await StepAsync())
                {
                    // Under sustained traffic the loop may not end for long: the attempt log is written on the way.
                    await FlushLogAsync();
                }

                await FlushLogAsync();
                return true;
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next tick tries again from the durable cursor: nothing is lost, a batch may be sent twice.
            LogStepFailed(logger, ex, Key.Id);
        }
    }

    /// <summary>One batch: due retries first, then new events; false when there was nothing to do.</summary>
    private async Task<bool> StepAsync()
    {
        var s = state.State;
        if (s.Endpoint is not { Enabled: true } endpoint)
        {
            return false;
        }

        var now = time.GetUtcNow();
        if (s.PausedUntil > now)
        {
            return false;
        }

        var probing = s.CircuitOpenUntil is not null;
        if (s.CircuitOpenUntil > now)
        {
            return false;
        }

        Pump.Rearm();
        var generation = _generation;
        var budget = probing ? 1 : Math.Max(1, _options.BatchSize);
        var work = new List<Work>();
        var changed = false;
        foreach (var retry in s.Retries.Where(r => r.DueAt <= now).OrderBy(r => r.DueAt).Take(budget).ToList())
        {
            if (await EventOfAsync(retry) is { } e)
            {
                work.Add(new Work(e, retry.Attempts + 1, retry));
            }
            else
            {
                // Pruned by the event log's retention while it waited: say so, it cannot be sent any more.
                s.Retries.Remove(retry);
                Record(new WebhookDelivery(Ulid.NewUlid().ToString(), retry.EventId.ToString(), retry.Type, retry.Cursor, retry.Attempts,
                    WebhookDelivery.Failed, null, 0, null, "the event is no longer in the event log (retention)", now, null, Final: true));
                changed = true;
            }
        }

        var cursor = s.Cursor;
        if (work.Count < budget && s.Retries.Count < _options.MaxPendingRetries)
        {
            var page = await eventLog.ReadAsync(Key.Tenant, cursor, WebhookRules.TypesToRead(endpoint.Events), budget - work.Count);
            if (page.CursorExpired)
            {
                LogCursorExpired(logger, Key.Id, cursor);
            }

            foreach (var e in page.Events)
            {
                if (work.Any(w => w.Event.Id == e.Id))
                {
                    continue; // a replay reached an event that is also due for a retry
                }

                if (await InScopeAsync(endpoint, e))
                {
                    work.Add(new Work(e, 1, s.Retries.Find(r => r.EventId == e.Id)));
                }
            }

            changed |= page.Next != cursor;
            cursor = page.Next;
        }

        if (work.Count == 0 && !changed)
        {
            return false;
        }

        var results = await DeliverAsync(endpoint, work);
        if (state.State != s || s.Endpoint is null)
        {
            return false; // deleted meanwhile
        }

        Apply(results, probing, time.GetUtcNow());
        if (generation == _generation)
        {
            s.Cursor = Math.Max(s.Cursor, cursor);
        }

        DisableIfFailing(results);
        await WriteAsync();
        return true;
    }

    private async Task<(Work Work, WebhookAttemptResult Result)[]> DeliverAsync(WebhookEndpoint endpoint, List<Work> work)
    {
        if (work.Count == 0)
        {
            return [];
        }

        var now = time.GetUtcNow();
        string[] secrets = [.. state.State.Secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret)];
        using var gate = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrency));
        return await Task.WhenAll(work.Select(async w =>
        {
            await gate.WaitAsync();
            try
            {
                return (w, await sender.SendAsync(endpoint.Url, secrets, w.Event, CancellationToken.None));
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    private void Apply((Work Work, WebhookAttemptResult Result)[] results, bool probing, DateTimeOffset now)
    {
        var s = state.State;
        var failed = false;
        var succeeded = false;
        foreach (var (w, r) in results)
        {
            Telemetry.KefuMetrics.WebhookAttempt(Key.Tenant, r.Status, r.LatencyMs);
            var e = w.Event;
            if (w.Retry is { } old)
            {
                s.Retries.RemoveAll(x => x.EventId == old.EventId);
            }

            if (r.Succeeded)
            {
                succeeded = true;
                _bodies.Remove(e.Cursor);
                Record(Attempt(w, r, WebhookDelivery.Succeeded, now, null, final: false));
                continue;
            }

            failed = true;
            s.ConsecutiveFailures++;
            s.FailingSince ??= now;
            if (r.RetryAfter is { } pause)
            {
                var until = now + (pause < _options.MaxRetryAfter ? pause : _options.MaxRetryAfter);
                s.PausedUntil = s.PausedUntil > until ? s.PausedUntil : until;
            }

            var delay = WebhookRules.RetryDelay(w.Attempt, _schedule, _options.Jitter, r.RetryAfter, _options.MaxRetryAfter, Random.Shared.NextDouble());
            if (delay is { } wait)
            {
                s.Retries.Add(new WebhookRetry(e.Cursor, e.Id, e.Type, w.Attempt, now + wait));
                _bodies[e.Cursor] = e;
                Record(Attempt(w, r, WebhookDelivery.Failed, now, now + wait, final: false));
            }
            else
            {
                _bodies.Remove(e.Cursor);
                LogExhausted(logger, Key.Id, e.Id.ToString(), w.Attempt);
                Record(Attempt(w, r, WebhookDelivery.Failed, now, null, final: true));
            }
        }

        if (succeeded)
        {
            s.LastSuccessAt = now;
        }

        if (succeeded && !failed)
        {
            s.ConsecutiveFailures = 0;
            s.FailingSince = null;
            s.CircuitOpenUntil = null;
        }
        else if (failed && (probing || s.ConsecutiveFailures >= _options.CircuitBreakerFailures))
        {
            s.CircuitOpenUntil = now + _options.CircuitBreakerCooldown;
        }
        else if (succeeded)
        {
            s.CircuitOpenUntil = null;
        }
    }

    /// <summary>A 410 Gone, or no success for <see cref="WebhookOptions.DisableAfter"/>: disabled, with its event (nothing dropped: the cursor and retries stay).</summary>
    private void DisableIfFailing((Work Work, WebhookAttemptResult Result)[] results)
    {
        var s = state.State;
        var now = time.GetUtcNow();
        string? reason = null;
        if (results.Any(x => x.Result.Gone))
        {
            reason = "the receiver answered 410 Gone";
        }
        else if (s.FailingSince is { } since && now - since >= _options.DisableAfter)
        {
            reason = $"every delivery failed since {EventJson.Time(since)}";
        }

        if (reason is null || s.Endpoint is not { Enabled: true } endpoint)
        {
            return;
        }

        s.Endpoint = endpoint with { Enabled = false, DisabledReason = reason, UpdatedAt = now };
        s.PendingEvents.Add(GrainEvents.Create(Key.Tenant, new WebhookEndpointDisabled(endpoint.Id, endpoint.Url, reason), Causation.Of("webhooks"), now));
        LogDisabled(logger, endpoint.Id, reason);
    }

    private WebhookDelivery Attempt(Work w, WebhookAttemptResult r, string status, DateTimeOffset now, DateTimeOffset? next, bool final) =>
        new(Ulid.NewUlid(now).ToString(), w.Event.Id.ToString(), w.Event.Type, w.Event.Cursor, w.Attempt, status, r.Status, r.LatencyMs,
            r.Excerpt, r.Error, now, next, final);

    private void Record(WebhookDelivery attempt)
    {
        var attempts = log.State.Attempts;
        attempts.Add(attempt);
        var excess = attempts.Count - Math.Max(1, _options.DeliveryLogSize);
        if (excess > 0)
        {
            attempts.RemoveRange(0, excess);
        }

        _logDirty = true;
    }

    private async Task<StoredEvent?> EventOfAsync(WebhookRetry retry)
    {
        if (_bodies.TryGetValue(retry.Cursor, out var cached))
        {
            return cached;
        }

        var page = await eventLog.ReadAsync(Key.Tenant, retry.Cursor - 1, [retry.Type], 1);
        return page.Events is [var e] && e.Id == retry.EventId ? e : null;
    }

    /// <summary>The inbox filter: conversation events of other inboxes are skipped; tenant-level events always pass.</summary>
    private async Task<bool> InScopeAsync(WebhookEndpoint endpoint, StoredEvent e)
    {
        if (endpoint.Inboxes is not { } inboxes || e.ConversationId is not { } conversationId)
        {
            return true;
        }

        if (!_inboxes.TryGetValue(conversationId, out var inbox))
        {
            if (_inboxes.Count > 10_000)
            {
                _inboxes.Clear();
            }

            var summary = await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, conversationId)).GetSummary();
            _inboxes[conversationId] = inbox = summary?.Inbox;
        }

        return inbox is not null && inboxes.Contains(inbox, StringComparer.Ordinal);
    }

    /// <summary>The tenant's newest cursor: a new endpoint starts there (it gets the events from its creation on).</summary>
    private async Task<long> HeadAsync(string tenant)
    {
        // A type no event has: the read only walks the cursors (each call as far as the log's scan window) to the head.
        string[] none = ["-"];
        var after = 0L;
        while (true)
        {
            var page = await eventLog.ReadAsync(tenant, after, none, 1);
            if (page.Next <= after)
            {
                return after;
            }

            after = page.Next;
        }
    }

    private WebhookEndpointView View()
    {
        var s = state.State;
        return new WebhookEndpointView(s.Endpoint!, s.Cursor, s.Retries.Count, s.FailingSince, s.CircuitOpenUntil, s.LastSuccessAt, s.SecretRotatedAt);
    }

    /// <summary>The endpoint state (cursor, retries, events) then its pending events relayed; one writer at a time.</summary>
    private async Task WriteAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // What was not written must not outlive this activation: the next one starts from the stored cursor.
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            _writeGate.Release();
        }

        await GrainEvents.RelayAsync(eventLog, state.State.PendingEvents);
    }

    private async Task FlushLogAsync()
    {
        if (_logDirty && time.GetUtcNow() - _logWrittenAt >= _options.LogFlushInterval && state.State.Endpoint is not null)
        {
            await WriteLogAsync();
        }
    }

    private async Task WriteLogAsync()
    {
        await _writeGate.WaitAsync();
        try
        {
            _logDirty = false;
            _logWrittenAt = time.GetUtcNow();
            await log.WriteStateAsync();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private sealed record Work(StoredEvent Event, int Attempt, WebhookRetry? Retry);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId}: a delivery step failed; it is retried from the stored cursor.")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string endpointId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId}: events after cursor {Cursor} were pruned by retention before they could be delivered.")]
    private static partial void LogCursorExpired(ILogger logger, string endpointId, long cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId}: event {EventId} failed {Attempts} times; the retry schedule is exhausted (it stays in the attempt log, replay or retry sends it again).")]
    private static partial void LogExhausted(ILogger logger, string endpointId, string eventId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook endpoint {EndpointId} disabled: {Reason}.")]
    private static partial void LogDisabled(ILogger logger, string endpointId, string reason);
}
