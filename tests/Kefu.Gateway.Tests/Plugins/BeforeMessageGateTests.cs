using Kefu.Contracts.Plugins;
using Kefu.Gateway.WebSockets;
using Kefu.Grains.Plugins;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kefu.Gateway.Tests.Plugins;

/// <summary>The gateway asks a tenant's before_message worker only when the tenant has such plugins.</summary>
public sealed class BeforeMessageGateTests
{
    private static readonly PluginHookSet WithHook = new(2, [new PluginHookEntry("triage", 1, PluginManifest.OnErrorAllow)], []);

    [Fact]
    public async Task ATenantWithoutPluginsIsAskedOncePerRefreshAndThenSkipsTheWorker()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var registry = new Registry { Answer = PluginHookSet.Empty };
        var gate = Gate(registry, time);

        for (var i = 0; i < 100; i++)
        {
            Assert.False(await gate.MustRunAsync("t1"));
        }

        Assert.Equal(1, registry.Calls);

        // A plugin is uploaded: seen once the refresh time has passed, and from then on the worker runs.
        registry.Answer = WithHook;
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(await gate.MustRunAsync("t1"));
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await gate.MustRunAsync("t1"));
        Assert.True(await gate.MustRunAsync("t1"));
        Assert.Equal(2, registry.Calls);

        // Tenants are separate.
        registry.Answer = PluginHookSet.Empty;
        Assert.False(await gate.MustRunAsync("t2"));
        Assert.True(await gate.MustRunAsync("t1"));
        Assert.Equal(3, registry.Calls);
    }

    [Fact]
    public async Task MessagesWaitingForTheSameTenantShareOneRegistryCall()
    {
        var registry = new Registry { Answer = WithHook, Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var gate = Gate(registry, new FakeTimeProvider(DateTimeOffset.UnixEpoch));

        var waiting = Enumerable.Range(0, 50).Select(_ => gate.MustRunAsync("t1").AsTask()).ToArray();
        registry.Hold.SetResult();
        Assert.All(await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10)), Assert.True);
        Assert.Equal(1, registry.Calls);
    }

    [Fact]
    public async Task ARegistryThatCannotAnswerSendsTheMessageToTheWorkerAndIsAskedAgainNextTime()
    {
        var registry = new Registry { Failing = true };
        var gate = Gate(registry, new FakeTimeProvider(DateTimeOffset.UnixEpoch));

        Assert.True(await gate.MustRunAsync("t1")); // the worker keeps its last known set and applies on_error
        registry.Failing = false;
        registry.Answer = PluginHookSet.Empty;
        Assert.False(await gate.MustRunAsync("t1"));
        Assert.Equal(2, registry.Calls);
    }

    [Fact]
    public async Task AZeroRefreshAlwaysAsksTheWorker()
    {
        var registry = new Registry { Answer = PluginHookSet.Empty };
        var gate = new BeforeMessageGate(registry.GetHooks, Options.Create(new PluginHookOptions { HookSetRefresh = TimeSpan.Zero }), TimeProvider.System);

        Assert.True(await gate.MustRunAsync("t1"));
        Assert.Equal(0, registry.Calls);
    }

    private static BeforeMessageGate Gate(Registry registry, TimeProvider time) =>
        new(registry.GetHooks, Options.Create(new PluginHookOptions { HookSetRefresh = TimeSpan.FromSeconds(1) }), time);

    private sealed class Registry
    {
        private int _calls;

        public PluginHookSet Answer { get; set; } = PluginHookSet.Empty;

        public bool Failing { get; set; }

        public TaskCompletionSource? Hold { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        public async Task<PluginHookSet> GetHooks(string tenant)
        {
            Interlocked.Increment(ref _calls);
            if (Hold is { } hold)
            {
                await hold.Task;
            }

            return Failing ? throw new TimeoutException("The registry's silo did not answer.") : Answer;
        }
    }
}
