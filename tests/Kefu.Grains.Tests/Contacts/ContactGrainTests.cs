using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Contacts;
using Kefu.Grains.Tests.Events;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests.Contacts;

/// <summary>
/// Contacts (issue #14, item 2): one contact per external id however many ask at once, exactly one contact.created /
/// contact.updated per durable change (none for a failed write, none lost when the log is down), a visitor per inbox, and
/// the conversations of every visitor identified as the contact.
/// </summary>
[Collection(EventFaultsCollection.Name)]
public sealed class ContactGrainTests(EventFaultsFixture fixture)
{
    private static readonly Causation Test = Causation.Of("test");

    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task TwentyConcurrentLookupsOfANewExternalIdMakeOneContactAndOneEvent()
    {
        var tenant = Scenario.NewTenant();
        var index = Client.GetGrain<IContactIndexGrain>(Tenancy.Key(tenant, "erp-42"));
        var lookups = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => index.FindOrCreate(new ContactPatch("Ana"), Test)));

        Assert.Single(lookups.Select(l => l.Contact.ContactId).Distinct());
        Assert.Single(lookups, l => l.Created);
        Assert.Equal("erp-42", lookups[0].Contact.ExternalId);
        Assert.Equal(lookups[0].Contact.ContactId, await index.Find());
        var events = await new EventLogReader(Client, tenant).AllAsync();
        Assert.Equal([EventTypes.ContactCreated], events.Select(e => e.Type));
    }

    [Fact]
    public async Task AFailedWriteChangesNothingAndProducesNoEvent()
    {
        var (tenant, contact, log) = await NewContactAsync();
        var id = (await contact.Get())!.ContactId;

        fixture.Faults.FailNextStateWriteOf(Tenancy.Key(tenant, id));
        await Assert.ThrowsAnyAsync<Exception>(() => contact.Update(new ContactPatch(Name: "Never"), Test));
        Assert.Empty(await log.NewAsync());
        Assert.Equal("Ana", (await contact.Get())!.Name);

        (await contact.Update(new ContactPatch(Name: "Ana Li"), Test)).Ok();
        var events = await log.NewAsync();
        Assert.Equal([EventTypes.ContactUpdated], events.Select(e => e.Type));
        Assert.Contains("Ana Li", events[0].DataJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEventTheLogDidNotTakeIsRelayedWithTheNextChangeExactlyOnce()
    {
        var (_, contact, log) = await NewContactAsync();

        fixture.Faults.FailEventLog = true;
        try
        {
            // Durable (the state is written), not relayed yet.
            (await contact.Update(new ContactPatch(Attributes: new() { ["plan"] = "gold" }), Test)).Ok();
            Assert.Empty(await log.NewAsync());
        }
        finally
        {
            fixture.Faults.FailEventLog = false;
        }

        (await contact.Update(new ContactPatch(Email: "ana@example.com"), Test)).Ok();
        var events = await log.NewAsync();
        Assert.Equal([EventTypes.ContactUpdated, EventTypes.ContactUpdated], events.Select(e => e.Type));
        Assert.Contains("gold", events[0].DataJson, StringComparison.Ordinal);
        Assert.Contains("ana@example.com", events[1].DataJson, StringComparison.Ordinal);

        // No change, no event; a refused change, no event.
        (await contact.Update(new ContactPatch(Email: "ana@example.com"), Test)).Ok();
        (await contact.Update(new ContactPatch(Attributes: new() { ["x"] = new string('v', ContactRules.MaxAttributeValueLength + 1) }), Test))
            .AssertError(ContactRules.InvalidAttributes);
        Assert.Empty(await log.NewAsync());
    }

    [Fact]
    public async Task AContactHasOneVisitorPerInboxAndListsTheConversationsOfEveryVisitorIdentifiedAsIt()
    {
        var (tenant, contact, _) = await NewContactAsync();
        var contactId = (await contact.Get())!.ContactId;
        var seed = new VisitorProfile("Ana", null, "ignored", [], DateTimeOffset.UtcNow);

        var own = (await contact.VisitorFor(Tenancy.DefaultInbox, seed)).Ok();
        Assert.Equal(own, (await contact.VisitorFor(Tenancy.DefaultInbox, seed)).Ok());
        var ownProfile = await Client.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, own)).GetProfile();
        Assert.Equal(contactId, ownProfile!.ContactId);
        Assert.Equal(Tenancy.DefaultInbox, ownProfile.Inbox);
        Assert.NotEqual(own, (await contact.VisitorFor("sales", seed)).Ok());

        // The conversation an inbound event starts is the own visitor's.
        var started = (await contact.GetOrStartConversation(Tenancy.DefaultInbox)).Ok();
        Assert.Equal(started, await Client.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, own)).GetCurrentConversation());

        // An anonymous visitor who signs in: its conversation, and any it starts later, are the contact's.
        var anonymous = await Scenario.NewVisitorAsync(Client, tenant, "Anonymous");
        var (before, _) = await Scenario.StartConversationAsync(Client, anonymous);
        Assert.Equal([before], (await anonymous.Grain.LinkContact(contactId)).Ok());
        await contact.AttachVisitor(anonymous.Id, Tenancy.DefaultInbox);
        Assert.Equal(new[] { before, started }.Order(StringComparer.Ordinal), (await contact.Get())!.ConversationIds);

        // The contact's visitor in the inbox stays the first one; another contact cannot take the visitor.
        Assert.Equal(own, (await contact.VisitorFor(Tenancy.DefaultInbox, seed)).Ok());
        (await anonymous.Grain.LinkContact(Ulid.NewUlid().ToString())).AssertError(ErrorCodes.Conflict);
        Assert.Equal(contactId, (await anonymous.Grain.GetProfile())!.ContactId);
    }

    [Fact]
    public async Task AnUnknownContactIsNotFound()
    {
        var contact = Client.GetGrain<IContactGrain>(Tenancy.Key(Scenario.NewTenant(), Ulid.NewUlid().ToString()));
        Assert.Null(await contact.Get());
        (await contact.Update(new ContactPatch(Name: "x"), Test)).AssertError(ErrorCodes.NotFound);
        (await contact.VisitorFor(Tenancy.DefaultInbox, new VisitorProfile(null, null, "default", [], DateTimeOffset.UtcNow))).AssertError(ErrorCodes.NotFound);
    }

    private async Task<(string Tenant, IContactGrain Contact, EventLogReader Log)> NewContactAsync()
    {
        var tenant = Scenario.NewTenant();
        var lookup = await Client.GetGrain<IContactIndexGrain>(Tenancy.Key(tenant, Scenario.NewId("u"))).FindOrCreate(new ContactPatch("Ana"), Test);
        var log = new EventLogReader(Client, tenant);
        Assert.Equal([EventTypes.ContactCreated], (await log.NewAsync()).Select(e => e.Type));
        return (tenant, Client.GetGrain<IContactGrain>(Tenancy.Key(tenant, lookup.Contact.ContactId)), log);
    }
}

/// <summary>The plain rules of a contact change (no cluster).</summary>
public sealed class ContactRulesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private static Contact Ana() =>
        new("c-1", "u-1", "Ana", "ana@example.com", new() { ["plan"] = "gold", ["city"] = "Hangzhou" }, [], null, null, Now, Now);

    [Fact]
    public void NullKeepsEmptyClearsAndANullAttributeIsRemoved()
    {
        var changed = ContactChanges.Apply(Ana(), new ContactPatch(Name: "  Ana Li ", Email: "", Attributes: new() { ["city"] = null, ["vip"] = "yes" }), Now);
        Assert.Equal("Ana Li", changed.Name);
        Assert.Null(changed.Email);
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "gold", ["vip"] = "yes" }, changed.Attributes);
        Assert.True(ContactChanges.Differs(Ana(), changed));
        Assert.False(ContactChanges.Differs(Ana(), ContactChanges.Apply(Ana(), new ContactPatch(Name: "Ana", Attributes: new() { ["plan"] = "gold" }), Now)));
    }

    [Fact]
    public void PatchesAndTotalsOutOfBoundsAreRefusedWithTheirCodes()
    {
        Assert.Null(ContactRules.Check(new ContactPatch("Ana", "ana@example.com", new() { ["plan"] = "gold", ["gone"] = null })));
        Assert.Equal(ErrorCodes.InvalidField, ContactRules.Check(new ContactPatch(Name: new string('n', ContactRules.MaxNameLength + 1)))?.Code);
        Assert.Equal(ErrorCodes.InvalidField, ContactRules.Check(new ContactPatch(Email: "nobody"))?.Code);
        Assert.Equal(ContactRules.InvalidAttributes, ContactRules.Check(new ContactPatch(Attributes: new() { [""] = "v" }))?.Code);
        Assert.Equal(ContactRules.InvalidAttributes, ContactRules.Check(new ContactPatch(Attributes: new() { ["k\n"] = "v" }))?.Code);
        Assert.Equal(ContactRules.InvalidAttributes,
            ContactRules.Check(new ContactPatch(Attributes: new() { ["k"] = new string('v', ContactRules.MaxAttributeValueLength + 1) }))?.Code);

        Assert.Null(ContactRules.CheckTotal(Enumerable.Range(0, ContactRules.MaxAttributes).ToDictionary(i => $"k{i}", _ => "v")));
        Assert.Equal(ContactRules.InvalidAttributes,
            ContactRules.CheckTotal(Enumerable.Range(0, ContactRules.MaxAttributes + 1).ToDictionary(i => $"k{i}", _ => "v"))?.Code);
        Assert.Equal(ContactRules.InvalidAttributes,
            ContactRules.CheckTotal(Enumerable.Range(0, 17).ToDictionary(i => $"k{i:00}", _ => new string('v', 1_000)))?.Code);
    }

    [Fact]
    public void AnIdentityHashIsTheHexHmacOfTheUserIdWithTheSecret()
    {
        // Fixed input → fixed hash, so a website's own code can be checked against this one (docs/integration.md §8).
        const string secret = "kis_example-secret";
        var hash = VisitorIdentity.Hash(secret, "u-42");
        Assert.Equal("3316cff709e43678d77f1d143825fd5c74d2a417c4756236027959da26b349ac", hash); // docs/integration.md §8.2
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("kis_example-secret"u8, "u-42"u8)), hash);
        Assert.True(VisitorIdentity.Verify(secret, "u-42", hash));
        Assert.True(VisitorIdentity.Verify(secret, "u-42", hash.ToUpperInvariant()));
        Assert.False(VisitorIdentity.Verify(secret, "u-43", hash));
        Assert.False(VisitorIdentity.Verify(null, "u-42", hash));
        Assert.False(VisitorIdentity.Verify(secret, "u-42", hash[..^1]));
        Assert.False(VisitorIdentity.Verify(secret, "u-42", "g" + hash[1..]));
        Assert.StartsWith(VisitorIdentity.SecretPrefix, VisitorIdentity.NewSecret());
        Assert.NotEqual(VisitorIdentity.NewSecret(), VisitorIdentity.NewSecret());
    }
}
