using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Events;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.Contacts;

/// <summary>
/// Contacts with the business's own id (issue #14, item 2; docs/integration.md §8): the contacts API, its bounds and who
/// may call it, widget identification with the inbox's identity secret, and exactly one event per durable change.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ContactsTests(GatewayFixture gateway)
{
    [Fact]
    public async Task An_identified_widget_visitor_is_its_contact_on_every_device_and_agents_read_the_contact()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var secret = await IdentitySecretAsync(admin);
        var userId = "u-" + Guid.NewGuid().ToString("N");
        using var anonymous = gateway.Http();

        var first = await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors",
            new { name = "Ana", email = "ana@example.com", userId, userHash = VisitorIdentity.Hash(secret, userId) }));
        var contactId = first.Str("contactId")!;
        Assert.True(Ulid.TryParse(contactId, out _));

        string conversationId;
        await using (var socket = await gateway.ConnectAsync(first.Str("token")!))
        {
            conversationId = (await socket.SendMessageAsync("where is my order?")).Str("conversationId")!;
        }

        // Another browser of the same customer (the hash in upper case is the same hash) chats as the same visitor.
        var second = await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors",
            new { userId, userHash = VisitorIdentity.Hash(secret, userId).ToUpperInvariant() }));
        Assert.Equal(first.Str("visitorId"), second.Str("visitorId"));
        Assert.Equal(contactId, second.Str("contactId"));
        using (var visitor = gateway.Http(second.Str("token")))
        {
            Assert.Equal(conversationId, (await Desk.Ok(await visitor.GetAsync("/api/v1/visitors/me"))).Str("conversationId"));
        }

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        var found = await Desk.Ok(await agent.GetAsync($"/api/v1/contacts?externalId={Uri.EscapeDataString(userId)}"));
        var contact = Assert.Single(found.GetProperty("contacts").EnumerateArray());
        Assert.Equal(contactId, contact.Str("id"));
        Assert.Equal(userId, contact.Str("externalId"));
        Assert.Equal("Ana", contact.Str("name"));
        Assert.Equal("ana@example.com", contact.Str("email"));
        Assert.Equal([conversationId], Ids(contact));
        Assert.Equal(contactId, (await Desk.Ok(await agent.GetAsync($"/api/v1/visitors/{first.Str("visitorId")}"))).Str("contactId"));
        Assert.Equal(userId, (await Desk.Ok(await agent.GetAsync($"/api/v1/contacts/{contactId}"))).Str("externalId"));

        Assert.Equal([EventTypes.ContactCreated], await ContactEventsAsync(contactId));
    }

    [Fact]
    public async Task A_user_id_without_its_valid_hash_is_refused()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var secret = await IdentitySecretAsync(admin);
        using var anonymous = gateway.Http();
        var userId = "u-" + Guid.NewGuid().ToString("N");

        async Task<string> Refused(object body, HttpStatusCode status) =>
            await Desk.ProblemCode(await anonymous.PostAsJsonAsync("/api/v1/visitors", body), status);

        Assert.Equal("invalid_identity", await Refused(new { userId }, HttpStatusCode.Forbidden));
        Assert.Equal("invalid_identity", await Refused(new { userId, userHash = VisitorIdentity.Hash(secret, "someone-else") }, HttpStatusCode.Forbidden));
        Assert.Equal("invalid_identity", await Refused(new { userId, userHash = VisitorIdentity.Hash("kis_guessed", userId) }, HttpStatusCode.Forbidden));
        Assert.Equal("invalid_identity", await Refused(new { userId, userHash = "zz" + VisitorIdentity.Hash(secret, userId)[2..] }, HttpStatusCode.Forbidden));
        Assert.Equal("invalid_identity", await Refused(new { userHash = VisitorIdentity.Hash(secret, userId) }, HttpStatusCode.BadRequest));
        Assert.Equal("invalid_identity", await Refused(new { userId = new string('u', 129), userHash = "00" }, HttpStatusCode.BadRequest));

        // Rotating the secret ends the old one at once (it shows in the admin's inbox list, never in an agent's).
        var rotated = await Desk.Ok(await admin.PostAsync("/api/v1/inboxes/default/rotate-identity-secret", null));
        var newSecret = rotated.Str("identitySecret")!;
        Assert.StartsWith(VisitorIdentity.SecretPrefix, newSecret);
        Assert.NotEqual(secret, newSecret);
        Assert.Equal("invalid_identity", await Refused(new { userId, userHash = VisitorIdentity.Hash(secret, userId) }, HttpStatusCode.Forbidden));
        Assert.NotNull((await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors",
            new { userId, userHash = VisitorIdentity.Hash(newSecret, userId) }))).Str("contactId"));
        Assert.Equal(newSecret, await IdentitySecretAsync(admin));

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        var seen = await Desk.Ok(await agent.GetAsync("/api/v1/inboxes"));
        Assert.All(seen.GetProperty("inboxes").EnumerateArray(), i => Assert.Equal(JsonValueKind.Null, i.GetProperty("identitySecret").ValueKind));
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.PostAsync("/api/v1/inboxes/default/rotate-identity-secret", null), HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task An_anonymous_visitor_who_is_identified_later_keeps_their_conversation()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var secret = await IdentitySecretAsync(admin);
        var (visitorId, token) = await gateway.CreateVisitorAsync("Bo");
        string conversationId;
        await using (var socket = await gateway.ConnectAsync(token))
        {
            conversationId = (await socket.SendMessageAsync("hello, anonymous for now")).Str("conversationId")!;
        }

        using var visitor = gateway.Http(token);
        var userId = "u-" + Guid.NewGuid().ToString("N");
        Assert.Equal("invalid_identity", await Desk.ProblemCode(await visitor.PostAsJsonAsync("/api/v1/visitors/me/identify",
            new { userId, userHash = VisitorIdentity.Hash(secret, userId + "x") }), HttpStatusCode.Forbidden));
        var identified = await Desk.Ok(await visitor.PostAsJsonAsync("/api/v1/visitors/me/identify",
            new { userId, userHash = VisitorIdentity.Hash(secret, userId) }));
        Assert.Equal(visitorId, identified.Str("visitorId"));
        var contactId = identified.Str("contactId")!;

        // Same visitor, same token, same conversation; the conversation is now the contact's, and so is the next one.
        var me = await Desk.Ok(await visitor.GetAsync("/api/v1/visitors/me"));
        Assert.Equal(conversationId, me.Str("conversationId"));
        Assert.Equal(contactId, me.Str("contactId"));
        var contact = await Desk.Ok(await admin.GetAsync($"/api/v1/contacts/{contactId}"));
        Assert.Equal([conversationId], Ids(contact));
        Assert.Equal("Bo", contact.Str("name"));

        // Identifying again as the same customer changes nothing; as another one is a conflict.
        await Desk.Ok(await visitor.PostAsJsonAsync("/api/v1/visitors/me/identify", new { userId, userHash = VisitorIdentity.Hash(secret, userId) }));
        Assert.Equal("conflict", await Desk.ProblemCode(await visitor.PostAsJsonAsync("/api/v1/visitors/me/identify",
            new { userId = "other", userHash = VisitorIdentity.Hash(secret, "other") }), HttpStatusCode.Conflict));

        // Later, the customer on another device gets the visitor that was identified first (and its conversation).
        var elsewhere = await Desk.Ok(await gateway.Http().PostAsJsonAsync("/api/v1/visitors", new { userId, userHash = VisitorIdentity.Hash(secret, userId) }));
        Assert.Equal(visitorId, elsewhere.Str("visitorId"));
        Assert.Equal([EventTypes.ContactCreated], await ContactEventsAsync(contactId));
    }

    [Fact]
    public async Task Patching_a_contact_changes_it_with_exactly_one_event_per_change()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var contactId = await NewContactAsync(admin);

        var patched = await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}",
            new { name = "Cai Wen", email = "cai@example.com", attributes = new Dictionary<string, string> { ["plan"] = "gold", ["city"] = "Hangzhou" } }));
        Assert.Equal("Cai Wen", patched.Str("name"));
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "gold", ["city"] = "Hangzhou" },
            patched.GetProperty("attributes").Deserialize<Dictionary<string, string>>());

        // The same patch again is no change: no event.
        await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}",
            new { name = "Cai Wen", attributes = new Dictionary<string, string> { ["plan"] = "gold" } }));

        // null removes an attribute; "" clears the email; absent members stay.
        var second = await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}",
            new { email = "", attributes = new Dictionary<string, string?> { ["city"] = null } }));
        Assert.Equal("Cai Wen", second.Str("name"));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("email").ValueKind);
        Assert.Equal(new Dictionary<string, string> { ["plan"] = "gold" }, second.GetProperty("attributes").Deserialize<Dictionary<string, string>>());

        // A refused patch changes nothing and causes nothing.
        Assert.Equal("invalid_attributes", await Desk.ProblemCode(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}",
            new { attributes = new Dictionary<string, string> { ["x"] = new string('v', 1025) } }), HttpStatusCode.BadRequest));

        Assert.Equal([EventTypes.ContactCreated, EventTypes.ContactUpdated, EventTypes.ContactUpdated], await ContactEventsAsync(contactId));
        var events = await ContactEventsDataAsync(contactId);
        Assert.Equal("Cai Wen", events[^1].Data.Str("name"));
        Assert.Equal(Causation.Agent, events[^1].Causation.Kind);
        Assert.Equal("admin", events[^1].Causation.Id);
    }

    public static TheoryData<string, object> OutOfBounds => new()
    {
        { "invalid_attributes", new { attributes = Enumerable.Range(0, 51).ToDictionary(i => $"k{i}", _ => "v") } },
        { "invalid_attributes", new { attributes = Enumerable.Range(0, 20).ToDictionary(i => $"k{i}", _ => new string('v', 1000)) } }, // 20 KB in all
        { "invalid_attributes", new { attributes = new Dictionary<string, string> { ["plan"] = new string('v', 1025) } } },
        { "invalid_attributes", new { attributes = new Dictionary<string, string> { [new string('k', 65)] = "v" } } },
        { "invalid_attributes", new { attributes = new Dictionary<string, string> { [""] = "v" } } },
        { "invalid_field", new { name = new string('n', 129) } },
        { "invalid_field", new { email = "not-an-address" } },
        { "invalid_field", new { email = new string('e', 250) + "@x.io" } },
    };

    [Theory]
    [MemberData(nameof(OutOfBounds))]
    public async Task A_patch_out_of_bounds_is_refused_with_a_code(string code, object patch)
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var contactId = await NewContactAsync(admin);
        Assert.Equal(code, await Desk.ProblemCode(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}", patch), HttpStatusCode.BadRequest));
        Assert.Equal([EventTypes.ContactCreated], await ContactEventsAsync(contactId));
    }

    [Fact]
    public async Task Agents_read_contacts_but_only_admins_and_keys_change_them()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var contactId = await NewContactAsync(admin);
        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        await Desk.Ok(await agent.GetAsync($"/api/v1/contacts/{contactId}"));
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.PatchAsJsonAsync($"/api/v1/contacts/{contactId}", new { name = "x" }), HttpStatusCode.Forbidden));

        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var visitor = gateway.Http(visitorToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await visitor.GetAsync($"/api/v1/contacts/{contactId}"), HttpStatusCode.Forbidden));
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/contacts/{contactId}")).StatusCode);

        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync($"/api/v1/contacts/{Ulid.NewUlid()}"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync("/api/v1/contacts/not-a-ulid"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.PatchAsJsonAsync($"/api/v1/contacts/{Ulid.NewUlid()}", new { name = "x" }), HttpStatusCode.NotFound));
        Assert.Equal("missing_field", await Desk.ProblemCode(await admin.GetAsync("/api/v1/contacts"), HttpStatusCode.BadRequest));
        Assert.Empty((await Desk.Ok(await admin.GetAsync("/api/v1/contacts?externalId=nobody-" + Guid.NewGuid()))).GetProperty("contacts").EnumerateArray());
    }

    [Fact]
    public async Task Malformed_bodies_are_refused_with_a_code_and_change_nothing()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var contactId = await NewContactAsync(admin);
        foreach (var body in new[] { "{not json", "{\"attributes\":{\"orders\":12}}", "{\"name\":[\"Ana\"]}", "[]" })
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
            Assert.Equal("bad_request", await Desk.ProblemCode(await admin.PatchAsync($"/api/v1/contacts/{contactId}", content), HttpStatusCode.BadRequest));
        }

        using var empty = new StringContent("", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PatchAsync($"/api/v1/contacts/{contactId}", empty)).StatusCode);
        using var identify = gateway.Http((await gateway.CreateVisitorAsync()).Token);
        using var notJson = new StringContent("{userId", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal("bad_request", await Desk.ProblemCode(await identify.PostAsync("/api/v1/visitors/me/identify", notJson), HttpStatusCode.BadRequest));
        Assert.Equal([EventTypes.ContactCreated], await ContactEventsAsync(contactId));
    }

    /// <summary>A contact made the way a widget makes one (an identified visitor); its id.</summary>
    private async Task<string> NewContactAsync(HttpClient admin)
    {
        var secret = await IdentitySecretAsync(admin);
        var userId = "u-" + Guid.NewGuid().ToString("N");
        using var anonymous = gateway.Http();
        return (await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors", new { userId, userHash = VisitorIdentity.Hash(secret, userId) }))).Str("contactId")!;
    }

    private static async Task<string> IdentitySecretAsync(HttpClient admin)
    {
        var inboxes = await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"));
        return inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == "default").Str("identitySecret")!;
    }

    private static string[] Ids(JsonElement contact) => [.. contact.GetProperty("conversationIds").EnumerateArray().Select(c => c.GetString()!)];

    private async Task<string[]> ContactEventsAsync(string contactId) => [.. (await ContactEventsDataAsync(contactId)).Select(e => e.Type)];

    /// <summary>The contact's events in the outbox, in order (written before the API answered: the grain relays them first).</summary>
    private async Task<List<(string Type, JsonElement Data, Causation Causation)>> ContactEventsDataAsync(string contactId)
    {
        var log = gateway.Services.GetRequiredService<IEventLog>();
        var found = new List<(string, JsonElement, Causation)>();
        long after = 0;
        while (true)
        {
            var page = await log.ReadAsync("default", after, [EventTypes.ContactCreated, EventTypes.ContactUpdated], 500);
            foreach (var e in page.Events)
            {
                var data = JsonDocument.Parse(e.DataJson).RootElement.GetProperty("contact").Clone();
                if (data.Str("id") == contactId)
                {
                    found.Add((e.Type, data, e.Causation));
                }
            }

            if (page.Events.Length == 0 || page.Next == after)
            {
                return found;
            }

            after = page.Next;
        }
    }
}
