using System.Text.Json.Nodes;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Crm;

/// <summary>
/// A field edited in the CRM by a person and in Kefu since the last confirmation: each policy decides (issue #17 item 5),
/// and a resolved conversation becomes a CRM activity with its transcript.
/// </summary>
[Collection(CrmCollection.Name)]
public sealed class CrmConflictTests(CrmFixture fixture)
{
    [Fact]
    public async Task Kefu_wins_pushes_the_local_value_over_the_crm_edit()
    {
        var (contact, crm) = await BothEditedAsync("kefuwins", crmEditAt: null);

        await fixture.WaitForAsync("kefuwins", contact.ContactId, CrmSyncStates.InSync,
            _ => (string?)crm.Records["contacts/" + contact.ContactId]["email"] == "kefu@example.com");
        Assert.Equal("kefu@example.com", (await Local("kefuwins", contact.ContactId)).Email);
    }

    [Fact]
    public async Task Crm_wins_takes_the_crm_value_into_kefu()
    {
        var (contact, crm) = await BothEditedAsync("crmwins", crmEditAt: null);

        await Scenario.EventuallyAsync(() => Local("crmwins", contact.ContactId), c => c.Email == "crm@example.com", "the CRM's email in Kefu");
        await fixture.WaitForAsync("crmwins", contact.ContactId, CrmSyncStates.InSync);
        Assert.Equal("crm@example.com", (string?)crm.Records["contacts/" + contact.ContactId]["email"]);
        Assert.Equal("Ivy", (await Local("crmwins", contact.ContactId)).Name); // other fields untouched
    }

    [Fact]
    public async Task Newest_wins_compares_the_crm_record_time_with_the_local_one()
    {
        var (later, laterCrm) = await BothEditedAsync("newest", crmEditAt: DateTimeOffset.UtcNow.AddHours(1));
        var (earlier, earlierCrm) = await BothEditedAsync("newest", crmEditAt: DateTimeOffset.UtcNow.AddHours(-1));

        await Scenario.EventuallyAsync(() => Local("newest", later.ContactId), c => c.Email == "crm@example.com", "the newer CRM value in Kefu");
        await fixture.WaitForAsync("newest", earlier.ContactId, CrmSyncStates.InSync,
            _ => (string?)earlierCrm.Records["contacts/" + earlier.ContactId]["email"] == "kefu@example.com");
        Assert.Equal("kefu@example.com", (await Local("newest", earlier.ContactId)).Email);
        await fixture.WaitForAsync("newest", later.ContactId, CrmSyncStates.InSync);
        Assert.Equal("crm@example.com", (string?)laterCrm.Records["contacts/" + later.ContactId]["email"]);
    }

    [Fact]
    public async Task Manual_stops_with_both_values_until_a_person_chooses()
    {
        var (contact, crm) = await BothEditedAsync("manual", crmEditAt: null);

        var conflict = await fixture.WaitForAsync("manual", contact.ContactId, CrmSyncStates.Conflict);
        var field = Assert.Single(conflict.Conflicts);
        Assert.Equal(("email", "kefu@example.com", "crm@example.com"), (field.Field, field.Local, field.Crm));
        Assert.Equal("crm@example.com", (string?)crm.Records["contacts/" + contact.ContactId]["email"]); // nothing pushed meanwhile
        var listed = await fixture.Client.GetGrain<ICrmSyncIndexGrain>(CrmFixture.TenantOf("manual")).List(CrmSyncStates.Conflict, 50);
        Assert.Contains(listed, v => v.RecordId == contact.ContactId);

        var bad = await fixture.Sync("manual", contact.ContactId).Resolve(new Dictionary<string, string> { ["email"] = "mine" });
        bad.AssertError(ErrorCodes.InvalidField);
        (await fixture.Sync("manual", contact.ContactId).Resolve(new Dictionary<string, string> { ["email"] = "crm" })).Ok();

        await fixture.WaitForAsync("manual", contact.ContactId, CrmSyncStates.InSync);
        Assert.Equal("crm@example.com", (await Local("manual", contact.ContactId)).Email);
    }

    [Fact]
    public async Task A_resolved_conversation_becomes_an_activity_with_its_transcript()
    {
        var tenant = CrmFixture.TenantOf("activity");
        var crm = fixture.Crm.For("activity");
        var visitor = await Scenario.NewVisitorAsync(fixture.Client, tenant, "Jo");
        var (conversationId, conversation) = await Scenario.StartConversationAsync(fixture.Client, visitor);
        (await conversation.SendAsync(visitor.Caller, "m1", "where is my parcel?")).Ok();
        var admin = await Scenario.NewAgentAsync(fixture.Client, tenant, admin: true);
        Assert.Empty(crm.Records); // open conversations are not synced

        (await conversation.ChangeStatus(admin.Caller, ConversationStatus.Resolved, null)).Ok();

        await fixture.WaitForAsync("activity", conversationId, CrmSyncStates.InSync, kind: CrmRecordKinds.Conversation);
        var activity = crm.Records["activities/" + conversationId];
        Assert.Equal("chat", (string?)activity["type"]);
        Assert.Equal(conversationId, (string?)activity["kefuConversationId"]);
        Assert.Equal(ConversationStatus.Resolved, (string?)activity["status"]);
        Assert.Contains("visitor Jo: where is my parcel?", (string?)activity["transcript"], StringComparison.Ordinal);
        Assert.Equal(((string?)activity["messages"]), ((string?)activity["transcript"])!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A contact in sync; then a sales rep changes its email in the CRM and an agent changes it in Kefu.</summary>
    private async Task<(Contact Contact, FakeCrm.Tenant Crm)> BothEditedAsync(string scenario, DateTimeOffset? crmEditAt)
    {
        var crm = fixture.Crm.For(scenario);
        var contact = await fixture.NewContactAsync(scenario, "Ivy", "ivy@example.com");
        await fixture.WaitForAsync(scenario, contact.ContactId, CrmSyncStates.InSync);

        crm.EditInCrm("contacts/" + contact.ContactId, "email", "crm@example.com", crmEditAt);
        (await fixture.UpdateContactAsync(scenario, contact.ContactId, new ContactPatch(Email: "kefu@example.com"))).Ok();
        return (contact, crm);
    }

    private async Task<Contact> Local(string scenario, string contactId) =>
        (await fixture.Client.GetGrain<IContactGrain>(Tenancy.Key(CrmFixture.TenantOf(scenario), contactId)).Get())!;

    private static string? Str(JsonNode? node) => (string?)node;
}
