namespace Kefu.Grains.Events;

/// <summary>
/// The reading loop an event-log reader grain owns (webhook endpoints, the routing router, the Kafka relay): a wake-up
/// registration (<see cref="TenantWakeups"/>) so events committed on this silo are read within milliseconds, a poll
/// timer for events committed elsewhere (interleaving, so a poke is not queued behind a long drain), and the coalescing
/// drain: while a drain runs, wake-ups only ask it for another pass, so there is never more than one reader of the grain's
/// cursor. The grain keeps what is its own: when it may run, one pass's work, and what a failure means.
/// </summary>
/// <param name="wakeups">The grain kind's wake-up service.</param>
/// <param name="tenant">Whose events the grain reads.</param>
/// <param name="drain">The grain's drain entry (it calls <see cref="RunAsync"/> inside its own error handling).</param>
public sealed class EventLogPump(TenantWakeups wakeups, string tenant, Func<Task> drain)
{
    private readonly Func<Task> _drain = drain;
    private TenantWakeups.Registration? _wakeup;
    private IGrainTimer? _timer;
    private bool _running;
    private bool _again;

    /// <summary>Registers the wake-up (<paramref name="poke"/> should be a grain call, so the drain runs on the grain's turn) and the poll timer; idempotent.</summary>
    public void Start(IGrainBase grain, Action poke, TimeSpan pollInterval, IReadOnlySet<string>? types = null)
    {
        ArgumentNullException.ThrowIfNull(grain);
        if (_wakeup is null)
        {
            _wakeup = wakeups.Register(tenant, poke);
            _wakeup.Types = types;
        }

        _timer ??= grain.RegisterGrainTimer(
            static (self, _) => self._drain(),
            this,
            new GrainTimerCreationOptions(TimeSpan.Zero, pollInterval) { Interleave = true, KeepAlive = true });
    }

    /// <summary>The event types that wake the grain from now on (null: all), when it is started.</summary>
    public void SetTypes(IReadOnlySet<string>? types)
    {
        if (_wakeup is not null)
        {
            _wakeup.Types = types;
        }
    }

    public void Stop()
    {
        if (_wakeup is not null)
        {
            wakeups.Unregister(_wakeup);
            _wakeup = null;
        }

        _timer?.Dispose();
        _timer = null;
    }

    /// <summary>Runs a drain now unless one is running, which then takes another look; nothing when <paramref name="mayStart"/> is false.</summary>
    public void Wake(bool mayStart)
    {
        if (_running)
        {
            _again = true;
        }
        else if (mayStart)
        {
            _drain().Ignore();
        }
    }

    /// <summary>Call right before reading: the next committed event pokes the grain again.</summary>
    public void Rearm() => _wakeup?.Reset();

    /// <summary>
    /// The drain most readers run: rearm the wake-up, then <paramref name="step"/> (one page read, handled and its cursor
    /// stored; true when the page was full) until a page is not full. A failure goes to <paramref name="failed"/> and ends
    /// the drain: the next poke or poll tick tries again from the durable cursor. Nothing runs unless
    /// <paramref name="mayRun"/> says so when the pass begins.
    /// </summary>
    public async Task DrainPagesAsync(Func<bool> mayRun, Func<Task<bool>> step, Action<Exception> failed)
    {
        ArgumentNullException.ThrowIfNull(mayRun);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(failed);
        try
        {
            await RunAsync(async () =>
            {
                Rearm();
                if (!mayRun())
                {
                    return false;
                }

                while (await step())
                {
                }

                return true;
            });
        }
#pragma warning disable CA1031 // the next poke or tick tries again from the durable cursor
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failed(ex);
        }
    }

    /// <summary>
    /// Runs <paramref name="pass"/> (read until there is nothing more), again as long as wake-ups arrived meanwhile and the
    /// pass says another may follow (false: e.g. backing off after a failure). Returns at once if a drain is running:
    /// that one takes another pass. Exceptions reach the caller, after which a new drain may start.
    /// </summary>
    public async Task RunAsync(Func<Task<bool>> pass)
    {
        ArgumentNullException.ThrowIfNull(pass);
        if (_running)
        {
            _again = true;
            return;
        }

        _running = true;
        try
        {
            bool mayContinue;
            do
            {
                _again = false;
                mayContinue = await pass();
            }
            while (_again && mayContinue);
        }
        finally
        {
            _running = false;
        }
    }
}
