using Kefu.Contracts.Grains;
using Kefu.Grains.Tests.Infrastructure;
using static Kefu.Grains.Tests.Dispatch.DispatchKit;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>With the real notifier: conversations that fail to take the dispatcher's one-way messages change nothing.</summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class DispatcherStubConversationTests(DefaultClusterFixture fixture)
{
    [Fact]
    public async Task Failing_conversations_do_not_disturb_the_dispatcher()
    {
        // The conversation ids name no conversation; their grains refuse Assigned and QueuePositionChanged.
        var (_, dispatcher) = await NewDispatcherAsync(fixture.Client, Config([Agent("x", 1)]), "x");

        Assert.Equal("x", (await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);
        Assert.Equal(1, (await dispatcher.Enqueue(Request("c2", 2))).Position);
        Assert.Equal(2, (await dispatcher.Enqueue(Request("c3", 3))).Position);
        await dispatcher.Release("c1");

        var snapshot = await dispatcher.GetSnapshot();
        Assert.Equal(["c2"], snapshot.OpenOf("x"));
        Assert.Equal(["c3"], snapshot.WaitingIds());
        Assert.Equal(1, snapshot.PositionOf("c3"));
    }
}
