using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

/// <summary>Calls naming conversations that do not exist leave no activations behind (issue #12, item 4).</summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class RandomConversationIdTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task RandomIdsDoNotKeepConversationActivations()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, real) = await Scenario.StartConversationAsync(Client, visitor);
        (await real.SendAsync(visitor.Caller, "c-1", "hello")).Ok();

        var random = Enumerable.Range(0, 40)
            .Select(_ => Client.GetGrain<IConversationGrain>(Tenancy.Key(tenant, Ulid.NewUlid().ToString())))
            .ToArray();
        foreach (var (conversation, i) in random.Select((c, i) => (c, i)))
        {
            // What REST history, WS sync/typing/read/join and the conversation endpoints reach.
            switch (i % 5)
            {
                case 0:
                    (await conversation.GetMessages(agent.Caller, 0, 100)).AssertError(ErrorCodes.NotFound);
                    break;
                case 1:
                    (await conversation.Typing(visitor.Caller, true)).AssertError(ErrorCodes.NotFound);
                    break;
                case 2:
                    (await conversation.MarkRead(agent.Caller, 5)).AssertError(ErrorCodes.NotFound);
                    break;
                case 3:
                    Assert.Null(await conversation.GetSummary());
                    break;
                default:
                    (await agent.Grain.Join(conversation.GetPrimaryKeyString().Split('/')[1])).AssertError(ErrorCodes.NotFound);
                    break;
            }
        }

        var management = Client.GetGrain<IManagementGrain>(0);
        var type = real.GetGrainId().Type;
        var ids = random.Select(c => c.GetGrainId()).ToHashSet();
        await Scenario.EventuallyAsync(
            async () => (IEnumerable<GrainId>)await management.GetActiveGrains(type),
            active => !active.Any(ids.Contains),
            "the activations of conversations that do not exist to go");

        // The real conversation is not affected.
        Assert.Contains(real.GetGrainId(), await management.GetActiveGrains(type));
        Assert.Equal(1, (await real.GetSummary())!.Unread);
    }
}
