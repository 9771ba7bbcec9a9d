using Kefu.Contracts.Grains;
using Kefu.Grains.Tests.Infrastructure;
using static Kefu.Grains.Tests.Dispatch.DispatchKit;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>
/// With the real notifier and real conversation grains: an assignment sent to a conversation that does not exist is
/// given back by that grain (nobody may hold a slot for nothing), and the dispatcher carries on in order.
/// </summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class DispatcherStubConversationTests(DefaultClusterFixture fixture)
{
    [Fact]
    public async Task Assignments_to_conversations_that_do_not_exist_are_given_back()
    {
        // The conversation ids name no conversation: their grains confirm and release what they are assigned.
        var (_, dispatcher) = await NewDispatcherAsync(fixture.Client, Config([Agent("x", 1)]), "x");

        Assert.Equal("x", (await dispatcher.Enqueue(Request("c1", 1))).AssigneeId);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        DispatchSnapshot snapshot;
        do
        {
            await Task.Delay(50);
            snapshot = await dispatcher.GetSnapshot();
        }
        while (snapshot.OpenOf("x").Contains("c1") && DateTime.UtcNow < deadline);

        Assert.Empty(snapshot.OpenOf("x"));
        Assert.Empty(snapshot.WaitingIds());
    }
}
