using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.ApiKeys;

/// <summary>
/// A service key as a conversation's caller (issue #14): a <see cref="ParticipantRole.Bot"/> caller with a key id acts as
/// the tenant's admins would (the gateway checked its scope and inboxes); a key of another tenant finds nothing; a bot
/// without a key stays refused.
/// </summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class KeyCallerTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task A_key_of_the_tenant_reads_labels_and_resolves_a_conversation()
    {
        var tenant = Scenario.NewTenant();
        await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var visitor = await Scenario.NewVisitorAsync(Client, tenant);
        var (_, conversation) = await Scenario.StartConversationAsync(Client, visitor);
        (await conversation.SendAsync(visitor.Caller, "c1", "hello")).Ok();
        var key = new Caller(tenant, ParticipantRole.Bot, "01jeq7x0000000000000000000", "ERP", false, KeyId: "01jeq7x0000000000000000000");

        Assert.Contains((await conversation.GetMessages(key, 0, 10)).Ok().Messages, m => m.Text == "hello");
        Assert.Equal(["order"], (await conversation.Label(key, ["order"], null)).Ok().Tags!);
        Assert.Equal(ConversationStatus.Resolved, (await conversation.ChangeStatus(key, ConversationStatus.Resolved, null)).Ok().Status);

        var otherTenant = key with { Tenant = Scenario.NewTenant() };
        (await conversation.GetMessages(otherTenant, 0, 10)).AssertError(ErrorCodes.NotFound);
        var bot = new Caller(tenant, ParticipantRole.Bot, "some-bot", "Bot", false);
        (await conversation.GetMessages(bot, 0, 10)).AssertError(ErrorCodes.NotAllowed);
        (await conversation.ChangeStatus(bot, ConversationStatus.Open, null)).AssertError(ErrorCodes.NotAllowed);
    }
}
