using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tests;

[Collection(SmallWindowClusterCollection.Name)]
public sealed class RecentWindowTests(SmallWindowClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public void TheSmallWindowConfigurationIsInEffect() =>
        Assert.Equal(
            SmallWindowClusterFixture.RecentWindow,
            fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IOptions<ConversationOptions>>().Value.RecentWindow);

    [Fact]
    public async Task OldPagesComeFromTheStoreAndNewOnesFromTheWindow()
    {
        var visitor = await StaffedVisitorAsync();
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        for (var i = 1; i <= 30; i++)
        {
            Assert.Equal(i, (await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok().Seq);
        }

        var old = (await conversation.GetMessages(visitor.Caller, 3, 10)).Ok();
        Assert.Equal(Range(4, 13), old.Messages.Select(m => m.Seq));
        Assert.Equal(Range(4, 13).Select(s => $"m{s}"), old.Messages.Select(m => m.Text));
        Assert.Equal(30, old.LastSeq);

        var recent = (await conversation.GetMessages(visitor.Caller, 25, 500)).Ok();
        Assert.Equal(Range(26, 30), recent.Messages.Select(m => m.Seq));
        Assert.Equal(30, recent.LastSeq);

        // Pages that start just before, at and after the window's edges, and the whole history, are gap-free.
        for (var after = 0; after <= 30; after++)
        {
            var page = (await conversation.GetMessages(visitor.Caller, after, 7)).Ok();
            Assert.Equal(Range(after + 1, Math.Min(after + 7, 30)), page.Messages.Select(m => m.Seq));
        }

        var all = (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok();
        Assert.Equal(Range(1, 30), all.Messages.Select(m => m.Seq));
        Assert.Empty((await conversation.GetMessages(visitor.Caller, 30, 500)).Ok().Messages);
    }

    [Fact]
    public async Task SeqAndRecentRetriesSurviveReactivation()
    {
        var visitor = await StaffedVisitorAsync();
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        var acks = new List<SendAck>();
        for (var i = 1; i <= 12; i++)
        {
            acks.Add((await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok());
        }

        await fixture.Cluster.DeactivateAsync(conversation);

        Assert.Equal(acks[^1], (await conversation.SendAsync(visitor.Caller, "c-12", "m12")).Ok());
        Assert.Equal(13, (await conversation.SendAsync(visitor.Caller, "c-13", "m13")).Ok().Seq);
        Assert.Equal(13, (await conversation.GetSummary())!.LastSeq);
        Assert.Equal(Range(1, 13), (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok().Messages.Select(m => m.Seq));
    }

    /// <summary>A visitor of a tenant with an online agent: no away message takes a seq between the visitor's messages.</summary>
    private async Task<TestVisitor> StaffedVisitorAsync()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        return await Scenario.NewVisitorAsync(Client, tenant);
    }

    private static IEnumerable<long> Range(long first, long last) =>
        first > last ? [] : Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i);
}
