using Kefu.Contracts.Messages;
using Kefu.Grains.Retention;
using Kefu.Grains.Storage;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Grains.Tests.Retention;

/// <summary>
/// Retention in a cluster: a tenant's policy is stored and refused by its grain, the registry lists tenants with a policy
/// of their own, the job runs every holder, and a conversation whose messages were pruned keeps working — its seq
/// continues after reactivation and its history simply starts later.
/// </summary>
[Collection(SmallWindowClusterCollection.Name)]
public sealed class RetentionClusterTests(SmallWindowClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task A_policy_is_stored_validated_listed_for_the_job_and_removed_by_setting_the_default()
    {
        var tenant = Scenario.NewTenant();
        var grain = Client.GetGrain<IRetentionPolicyGrain>(tenant);
        var initial = await grain.Get();
        Assert.True(initial.Policy.IsDefault);
        Assert.Equal((null, 90, 30), (initial.EffectiveMessagesDays, initial.EffectiveAttachmentsDays, initial.EffectiveEventsDays));

        Assert.Equal(ErrorCodes.InvalidField, (await grain.Set(new RetentionPolicy(0, null, null), "admin")).Error?.Code);
        Assert.Equal(ErrorCodes.InvalidField, (await grain.Set(new RetentionPolicy(null, null, 31), "admin")).Error?.Code);
        Assert.True((await grain.Get()).Policy.IsDefault);

        var set = (await grain.Set(new RetentionPolicy(400, 7, 14), "admin")).Ok();
        Assert.Equal((400, 7, 14, "admin"), (set.EffectiveMessagesDays, set.EffectiveAttachmentsDays!.Value, set.EffectiveEventsDays, set.UpdatedBy));
        Assert.Equal(new RetentionPolicy(400, 7, 14), (await Client.GetGrain<IRetentionRegistryGrain>(0).List())[tenant]);

        var report = await Client.GetGrain<IRetentionJobGrain>(0).RunNow();
        Assert.True(report.Tenants >= 1);
        Assert.Contains("messages", report.Deleted.Keys);
        Assert.Contains("events", report.Deleted.Keys);
        Assert.Contains("attachments", report.Deleted.Keys);

        (await grain.Set(RetentionPolicy.Default, "admin")).Ok();
        Assert.False((await Client.GetGrain<IRetentionRegistryGrain>(0).List()).ContainsKey(tenant));
    }

    [Fact]
    public async Task A_conversation_whose_messages_were_pruned_continues_its_seq_and_reads_from_what_is_left()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewOnlineAgentAsync(Client, tenant);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        for (var i = 1; i <= 12; i++)
        {
            Assert.Equal(i, (await conversation.SendAsync(visitor.Caller, $"c-{i}", $"m{i}")).Ok().Seq);
        }

        // Everything is older than a cutoff just ahead of now: all but the newest message go, the newest stays empty.
        var store = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IMessageStore>();
        Assert.Equal(12, await store.PruneAsync(tenant, DateTimeOffset.UtcNow.AddMinutes(1), 100));
        await fixture.Cluster.DeactivateAsync(conversation);

        Assert.Equal(13, (await conversation.SendAsync(visitor.Caller, "c-13", "m13")).Ok().Seq);
        Assert.Equal(13, (await conversation.GetSummary())!.LastSeq);
        var history = (await conversation.GetMessages(visitor.Caller, 0, 500)).Ok().Messages;
        Assert.Equal([12L, 13L], history.Select(m => m.Seq));
        Assert.Equal(string.Empty, history[0].Text);
        Assert.Equal("m13", history[1].Text);
    }
}
