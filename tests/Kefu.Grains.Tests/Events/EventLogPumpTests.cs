using Kefu.Grains.Events;

namespace Kefu.Grains.Tests.Events;

/// <summary>The readers' drain loop: one drain at a time, wake-ups during a drain become one more pass, never a second reader.</summary>
public sealed class EventLogPumpTests
{
    private sealed class TestWakeups : TenantWakeups;

    [Fact]
    public async Task Wakeups_during_a_drain_become_one_more_pass_not_a_second_drain()
    {
        var passes = 0;
        var concurrent = 0;
        var maxConcurrent = 0;
        var gate = new TaskCompletionSource();
        var drains = new List<Task>();
        EventLogPump? pump = null;
        pump = new EventLogPump(new TestWakeups(), "t", () =>
        {
            var drain = pump!.RunAsync(async () =>
            {
                maxConcurrent = Math.Max(maxConcurrent, ++concurrent);
                passes++;
                if (passes == 1)
                {
                    await gate.Task;
                }

                concurrent--;
                return true;
            });
            drains.Add(drain);
            return drain;
        });

        pump.Wake(mayStart: true);
        Assert.Equal(1, passes);
        pump.Wake(mayStart: true);
        pump.Wake(mayStart: true);
        Assert.Equal(1, passes);
        gate.SetResult();
        await drains[0];
        Assert.Equal(2, passes);
        Assert.Equal(1, maxConcurrent);

        // Once it has finished, a wake-up starts a new drain; a reader that may not run is not started.
        pump.Wake(mayStart: false);
        Assert.Equal(2, passes);
        pump.Wake(mayStart: true);
        Assert.Equal(3, passes);
    }

    [Fact]
    public async Task A_pass_that_says_stop_ends_the_drain_and_a_failure_lets_the_next_drain_run()
    {
        var passes = 0;
        var pump = new EventLogPump(new TestWakeups(), "t", () => Task.CompletedTask);
        var gate = new TaskCompletionSource();
        var first = pump.RunAsync(async () =>
        {
            passes++;
            await gate.Task;
            return false; // backing off: no second pass even though one was asked for
        });
        await pump.RunAsync(() => Task.FromResult(true));
        gate.SetResult();
        await first;
        Assert.Equal(1, passes);

        await Assert.ThrowsAsync<InvalidOperationException>(() => pump.RunAsync(() => throw new InvalidOperationException("log down")));
        await pump.RunAsync(() => { passes++; return Task.FromResult(true); });
        Assert.Equal(2, passes);
    }
}
