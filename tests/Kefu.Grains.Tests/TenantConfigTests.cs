using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

[Collection(DefaultClusterCollection.Name)]
public sealed class TenantConfigTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task InboxesTeamsAndCannedRepliesSurviveAReactivationAndKeysKeepResolving()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var grain = Client.GetGrain<ITenantGrain>(tenant);

        (await grain.PutTeam(new TeamConfig("sales", "Sales", [agent.Id]))).Ok();
        var hours = new BusinessHours("Europe/Paris", [new BusinessDay(DayOfWeek.Monday, new TimeOnly(9, 0), new TimeOnly(18, 0))]);
        var inbox = (await grain.PutInbox(new InboxConfig("shop", "Shop", string.Empty, AssignmentPolicies.RoundRobin, 10, ["sales"], hours, "Back soon", "Hi!", true))).Ok();
        var reply = (await grain.PutCannedReply(new CannedReply(string.Empty, "thanks", "Thank you!"))).Ok();
        Assert.StartsWith("pk_", inbox.PublicKey);
        Assert.True(Ulid.TryParse(reply.Id, out _));

        await fixture.Cluster.DeactivateAsync(grain);

        var inboxes = await grain.ListInboxes();
        Assert.Equal([Tenancy.DefaultInbox, "shop"], inboxes.Select(i => i.InboxId));
        var stored = inboxes.Single(i => i.InboxId == "shop");
        Assert.Equal(inbox.PublicKey, stored.PublicKey);
        Assert.Equal(["sales"], stored.Teams);
        Assert.Equal(10, stored.MaxOpen);
        Assert.Equal("Europe/Paris", stored.BusinessHours!.TimeZone);
        Assert.Equal(hours.Days, stored.BusinessHours.Days);
        Assert.Equal([agent.Id], (await grain.ListTeams()).Single().AgentIds);
        Assert.Equal(reply, (await grain.ListCannedReplies()).Single());

        // Both keys point at their inboxes, and an update keeps the key.
        var defaultKey = inboxes.Single(i => i.InboxId == Tenancy.DefaultInbox).PublicKey;
        Assert.Equal(AssignmentPolicies.LeastBusy, inboxes.Single(i => i.InboxId == Tenancy.DefaultInbox).AssignmentPolicy);
        Assert.Equal(new InboxRef(tenant, Tenancy.DefaultInbox), await Client.GetGrain<IInboxKeyGrain>(defaultKey).Resolve());
        Assert.Equal(new InboxRef(tenant, "shop"), await Client.GetGrain<IInboxKeyGrain>(inbox.PublicKey).Resolve());
        var renamed = (await grain.PutInbox(stored with { Name = "Web shop", PublicKey = string.Empty })).Ok();
        Assert.Equal(inbox.PublicKey, renamed.PublicKey);

        // Deleting the inbox unbinds its key; the default inbox stays.
        (await grain.DeleteInbox("shop")).Ok();
        Assert.Null(await Client.GetGrain<IInboxKeyGrain>(inbox.PublicKey).Resolve());
        (await grain.DeleteInbox(Tenancy.DefaultInbox)).AssertError(ErrorCodes.Conflict);
        await fixture.Cluster.DeactivateAsync(grain);
        Assert.Equal([Tenancy.DefaultInbox], (await grain.ListInboxes()).Select(i => i.InboxId));
    }

    [Fact]
    public async Task ConfigurationIsValidatedAgainstTheTenant()
    {
        var tenant = Scenario.NewTenant();
        var agent = await Scenario.NewAgentAsync(Client, tenant);
        var grain = Client.GetGrain<ITenantGrain>(tenant);
        InboxConfig Inbox(string[] teams) => new("web", "Web", string.Empty, AssignmentPolicies.LeastBusy, null, teams, null, null, null, false);

        (await grain.PutTeam(new TeamConfig("a-team", "A", ["nobody"]))).AssertError(ErrorCodes.InvalidField);
        (await grain.PutInbox(Inbox(["a-team"]))).AssertError(ErrorCodes.InvalidField);
        (await grain.PutTeam(new TeamConfig("a-team", "A", [agent.Id, agent.Id]))).Ok();
        Assert.Equal([agent.Id], (await grain.ListTeams()).Single().AgentIds);
        (await grain.PutInbox(Inbox(["a-team"]))).Ok();

        // Deleting a team takes it out of the inboxes it served.
        (await grain.DeleteTeam("a-team")).Ok();
        Assert.Empty((await grain.GetInbox("web"))!.Teams);
        (await grain.DeleteTeam("a-team")).AssertError(ErrorCodes.NotFound);

        (await grain.PutCannedReply(new CannedReply(string.Empty, "hi", "Hello"))).Ok();
        (await grain.PutCannedReply(new CannedReply(string.Empty, "hi", "Hello again"))).AssertError(ErrorCodes.Conflict);
        (await grain.PutCannedReply(new CannedReply(string.Empty, "Hi There", "Hello"))).AssertError(ErrorCodes.InvalidField);
    }
}
