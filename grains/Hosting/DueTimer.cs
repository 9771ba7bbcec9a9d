namespace Kefu.Grains.Hosting;

/// <summary>
/// The timer half of the "timer plus reminder backstop" pattern of grains that act at a point in time (a CRM sync
/// attempt, a mail attempt, a debounced offline reply): one pending call of <paramref name="due"/> at the time last
/// scheduled (a new <see cref="Schedule"/> replaces it; a time in the past runs at once). The timer keeps the grain
/// active until it fires; the grain's reminder brings it back if its silo is lost before.
/// </summary>
public sealed class DueTimer(IGrainBase grain, TimeProvider time, Func<Task> due)
{
    private readonly Func<Task> _due = due;
    private IGrainTimer? _timer;

    public void Schedule(DateTimeOffset at)
    {
        var wait = at - time.GetUtcNow();
        _timer?.Dispose();
        _timer = grain.RegisterGrainTimer(
            static (self, _) => self._due(),
            this,
            new GrainTimerCreationOptions(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    public void Cancel()
    {
        _timer?.Dispose();
        _timer = null;
    }

    /// <summary>
    /// Nothing is due any more: removes the backstop reminder <paramref name="name"/> and records that it is gone (no
    /// write when it was not set). <paramref name="firing"/>: called from the reminder itself, which therefore exists
    /// whatever the state says.
    /// </summary>
    public static async Task DropBackstopAsync<TState>(IGrainBase grain, string name, IPersistentState<TState> state, bool firing = false)
        where TState : IBackstopState
    {
        if (!state.State.ReminderSet && !firing)
        {
            return;
        }

        await UnregisterReminderAsync(grain, name);
        state.State.ReminderSet = false;
        await state.WriteStateAsync();
    }

    /// <summary>Removes the grain's backstop reminder <paramref name="name"/> if it exists (nothing is due any more).</summary>
    public static async Task UnregisterReminderAsync(IGrainBase grain, string name)
    {
        if (await grain.GetReminder(name) is { } reminder)
        {
            await grain.UnregisterReminder(reminder);
        }
    }
}

/// <summary>The persisted half of the backstop: whether the grain's reminder is registered (so dropping it costs nothing when not).</summary>
public interface IBackstopState
{
    bool ReminderSet { get; set; }
}
