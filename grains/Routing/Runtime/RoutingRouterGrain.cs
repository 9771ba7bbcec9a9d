using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Events;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Routing.Runtime;

[GenerateSerializer]
public sealed class RoutingRouterState
{
    [Id(0)] public bool Started { get; set; }

    /// <summary>
    /// Every event up to here has been handled (its routes ran, or none matched): the durable cursor. Events past it
    /// may have run already; after a lost silo they are handed to their execution grains again, which answer from their
    /// state — so each runs once.
    /// </summary>
    [Id(1)] public long Cursor { get; set; }
}

/// <summary>
/// A tenant's router (key: the tenant; docs/architecture.md "Routing"). Reads the tenant's event log after its cursor —
/// only the types the rules listen to — skips events a chain of rules caused at <see cref="RoutingLimits.MaxDepth"/>
/// (the loop guard), matches each with the compiled ruleset (pure, no I/O) and hands a matching event to its
/// <see cref="IRoutingExecutionGrain"/>. Up to <see cref="RoutingOptions.MaxInFlight"/> events run at once; the durable
/// cursor is the low-water mark (the event before the oldest one still running). The conversation never waits for a
/// rule: the router hears events after their commit. The pump runs on an interleaving timer, is woken by
/// <see cref="RoutingWakeups"/>, and a reminder brings the router back after its silo is lost.
/// </summary>
public sealed partial class RoutingRouterGrain(
    [PersistentState("routingRouter", KefuStorage.Name)] IPersistentState<RoutingRouterState> state,
    IEventLog eventLog,
    IRuleSetSource ruleSets,
    IRouteSelector selector,
    RoutingWakeups wakeups,
    IOptions<RoutingOptions> options,
    TimeProvider time,
    ILogger<RoutingRouterGrain> logger) : Grain, IRoutingRouterGrain, IRemindable
{
    private const string KeepAliveReminder = "routing-keepalive";
    private static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan HoursRefresh = TimeSpan.FromSeconds(30);

    private readonly RoutingOptions _options = options.Value;

    /// <summary>Cursor → event of the executions under way (and of those to hand over again after a failure).</summary>
    private readonly SortedDictionary<long, Pending> _inFlight = [];
    private readonly Dictionary<long, DateTimeOffset> _failed = [];

    /// <summary>Conversation id → inbox (a conversation stays in its inbox).</summary>
    private readonly Dictionary<string, string?> _inboxes = new(StringComparer.Ordinal);

    private RuleSet? _ruleSet;
    private string? _hash;
    private string[] _types = ["-"];
    private long _read;
    private EventLogPump? _pump;
    private bool _loaded;
    private InboxHours? _hours;
    private DateTimeOffset _hoursReadAt;

    private string Tenant => this.GetPrimaryKeyString();

    private EventLogPump Pump => _pump ??= new(wakeups, Tenant, DrainAsync);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _read = state.State.Cursor;
        if (state.State.Started)
        {
            // The rules are read by the first step, not here: the rules grain may be the one activating this router
            // (RulesChanged), waiting for it, and would not answer.
            Start();
        }

        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Stop();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Activation started the pump; the tick only has to exist (it brings the router back on another silo).
        Wake();
        return Task.CompletedTask;
    }

    public async Task RulesChanged(RoutingRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        if (rules.Hash == _hash && state.State.Started)
        {
            Wake();
            return;
        }

        Use(rules);
        if (!state.State.Started)
        {
            // Rules act on events from the moment they are first set, not on the tenant's history.
            state.State.Cursor = _read = await HeadAsync();
            state.State.Started = true;
            await state.WriteStateAsync();
            await this.RegisterOrUpdateReminder(KeepAliveReminder, ReminderPeriod, ReminderPeriod);
        }

        Start();
        Wake();
    }

    public Task Poke()
    {
        Wake();
        return Task.CompletedTask;
    }

    public Task<RoutingRouterStatus> GetStatus() =>
        Task.FromResult(new RoutingRouterStatus(state.State.Started, state.State.Cursor, _read, _inFlight.Count, _hash));

    private async Task LoadRulesAsync() => Use(await GrainFactory.GetGrain<IRoutingRulesGrain>(Tenant).Get());

    private void Use(RoutingRules? rules)
    {
        _loaded = true;
        _ruleSet = rules is null ? null : ruleSets.Get(rules);
        _hash = _ruleSet is null ? null : rules!.Hash;
        _types = _ruleSet is null ? ["-"] : TypesToRead(_ruleSet.ListenedNames);
        Pump.SetTypes(_types.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>The stored event types behind the names rules listen to: inbound types are all read as inbound.received.</summary>
    public static string[] TypesToRead(IReadOnlySet<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var types = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            types.Add(EventTypes.IsKnown(name) ? name : EventTypes.InboundReceived);
        }

        // Nothing listened to: the read only moves the cursor along (a type no event has).
        return types.Count == 0 ? ["-"] : [.. types.Order(StringComparer.Ordinal)];
    }

    private void Start()
    {
        var self = this.AsReference<IRoutingRouterGrain>();
        Pump.Start(this, () => self.Poke().Ignore(), _options.PollInterval, _types.ToHashSet(StringComparer.Ordinal));
    }

    private void Stop() => _pump?.Stop();

    private void Wake() => Pump.Wake(state.State.Started);

    private async Task DrainAsync()
    {
        try
        {
            await Pump.RunAsync(async () =>
            {
                if (!_loaded)
                {
                    await LoadRulesAsync();
                }

                RetryFailed();
                while (await StepAsync())
                {
                }

                await SaveCursorAsync();
                return true;
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next tick tries again from where reading stopped (the durable cursor is only ever the low-water mark).
            LogStepFailed(logger, ex, Tenant);
        }
    }

    /// <summary>One page of events: the matching ones are handed over; false when there was nothing new or no room.</summary>
    private async Task<bool> StepAsync()
    {
        var room = Math.Max(1, _options.MaxInFlight) - _inFlight.Count;
        if (room <= 0)
        {
            return false;
        }

        Pump.Rearm();
        var page = await eventLog.ReadAsync(Tenant, _read, _types, Math.Min(room, Math.Max(1, _options.BatchSize)));
        if (page.CursorExpired)
        {
            LogCursorExpired(logger, Tenant, _read);
        }

        if (_ruleSet is { } ruleSet && _hash is { } hash)
        {
            var facts = await FactsAsync();
            foreach (var stored in page.Events)
            {
                if (await MatchesAsync(ruleSet, stored, facts) is ({ Length: > 0 } routes, var inbox))
                {
                    _inFlight[stored.Cursor] = new Pending(stored, routes, inbox);
                    ExecuteAsync(stored, hash, routes, inbox).Ignore();
                }
            }
        }

        var moved = page.Next > _read;
        _read = Math.Max(_read, page.Next);
        return moved;
    }

    /// <summary>
    /// The routes that act on the event (none for an event a chain of rules caused at the maximum depth), and the inbox
    /// of its conversation (events of a conversation do not all name it; <c>business_hours</c> and <c>$inbox</c> need it).
    /// </summary>
    private async Task<(MatchedRoute[]? Routes, string? Inbox)> MatchesAsync(RuleSet ruleSet, StoredEvent stored, RoutingFacts facts)
    {
        if (stored.Causation.Depth >= RoutingLimits.MaxDepth)
        {
            return (null, null); // the loop guard: a chain of rules stops here
        }

        RoutingEvent e;
        try
        {
            e = RoutingEvent.FromStored(stored);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            LogUnreadable(logger, ex, Tenant, stored.Id.ToString());
            return (null, null);
        }

        if (!ruleSet.ListenedNames.Contains(e.Name))
        {
            return (null, null);
        }

        if (e.Inbox is null && e.ConversationId is { } conversationId)
        {
            e = e with { Inbox = await InboxOfAsync(conversationId) };
        }

        var routes = selector.Match(ruleSet, e, facts);
        return (routes.Count == 0 ? null : [.. routes.Select(m => new MatchedRoute(m.Route.Id, new Dictionary<string, string>(m.Extracted, StringComparer.Ordinal)))], e.Inbox);
    }

    private async Task<string?> InboxOfAsync(string conversationId)
    {
        if (_inboxes.TryGetValue(conversationId, out var inbox))
        {
            return inbox;
        }

        if (_inboxes.Count >= 10_000)
        {
            _inboxes.Clear();
        }

        // GetSummary interleaves: the conversation answers it between its own commands.
        var summary = await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Tenant, conversationId)).GetSummary();
        return _inboxes[conversationId] = summary?.Inbox;
    }

    /// <summary>
    /// What conditions may ask beyond the event: the tenant's inboxes' business hours (read at most every 30 s;
    /// <see cref="InboxHours"/>).
    /// </summary>
    private async Task<RoutingFacts> FactsAsync()
    {
        var now = time.GetUtcNow();
        if (_hours is null || now - _hoursReadAt > HoursRefresh)
        {
            try
            {
                _hours = InboxHours.Of(await GrainFactory.GetGrain<ITenantGrain>(Tenant).ListInboxes());
                _hoursReadAt = now;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogInboxesUnreadable(logger, ex, Tenant);
                _hours ??= InboxHours.Of([]);
            }
        }

        return new RoutingFacts(now, _hours.IsOpen);
    }

    private async Task ExecuteAsync(StoredEvent stored, string hash, MatchedRoute[] routes, string? inbox)
    {
        try
        {
            await GrainFactory.GetGrain<IRoutingExecutionGrain>(Tenancy.Key(Tenant, stored.Id.ToString())).Run(stored, hash, routes, inbox);
            _inFlight.Remove(stored.Cursor);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Stays in flight (the cursor does not pass it) and is handed over again shortly: the grain runs it once.
            LogExecutionFailed(logger, ex, Tenant, stored.Id.ToString());
            _failed[stored.Cursor] = time.GetUtcNow() + RetryDelay;
        }

        Wake();
    }

    private void RetryFailed()
    {
        if (_failed.Count == 0 || _hash is not { } hash)
        {
            return;
        }

        var now = time.GetUtcNow();
        foreach (var (cursor, due) in _failed.ToList())
        {
            if (due <= now && _inFlight.TryGetValue(cursor, out var pending))
            {
                _failed.Remove(cursor);
                ExecuteAsync(pending.Event, hash, pending.Routes, pending.Inbox).Ignore();
            }
        }
    }

    private async Task SaveCursorAsync()
    {
        var watermark = _inFlight.Count > 0 ? _inFlight.Keys.First() - 1 : _read;
        if (watermark > state.State.Cursor)
        {
            state.State.Cursor = watermark;
            await state.WriteStateAsync();
        }
    }

    /// <summary>The tenant's newest cursor.</summary>
    private async Task<long> HeadAsync()
    {
        string[] none = ["-"];
        var after = 0L;
        while (true)
        {
            var page = await eventLog.ReadAsync(Tenant, after, none, 1);
            if (page.Next <= after)
            {
                return after;
            }

            after = page.Next;
        }
    }

    private sealed record Pending(StoredEvent Event, MatchedRoute[] Routes, string? Inbox);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing {Tenant}: the inboxes' business hours could not be read")]
    private static partial void LogInboxesUnreadable(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing {Tenant}: a step of the router failed")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing {Tenant}: running the routes of event {EventId} failed; it is handed over again")]
    private static partial void LogExecutionFailed(ILogger logger, Exception exception, string tenant, string eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing {Tenant}: events after cursor {Cursor} were pruned by retention before the rules saw them")]
    private static partial void LogCursorExpired(ILogger logger, string tenant, long cursor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Routing {Tenant}: event {EventId} could not be read for the rules")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, string tenant, string eventId);
}
