using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.ContactCentre;

/// <summary>Agents, teams, inboxes and canned replies through the admin REST API: what admins may change, what agents see.</summary>
[Collection(GatewayCollection.Name)]
public sealed partial class AdminApiTests(GatewayFixture gateway)
{
    [Fact]
    public async Task Agents_are_created_with_a_capacity_and_everyone_sees_it_with_their_teams()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var id = Unique("cap");
        var created = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/agents", new { username = id, password = "agent-password-1", capacity = 7 }));
        Assert.Equal(7, created.GetProperty("capacity").GetInt32());
        var plain = Unique("plain");
        Assert.Equal(5, (await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/agents", new { username = plain, password = "agent-password-1" }))).GetProperty("capacity").GetInt32());

        foreach (var capacity in new[] { 0, -1, 1001 })
        {
            var refused = await admin.PostAsJsonAsync("/api/v1/agents", new { username = Unique("bad"), password = "agent-password-1", capacity });
            Assert.Equal("invalid_field", await Desk.ProblemCode(refused, HttpStatusCode.BadRequest));
        }

        var team = Unique("t");
        await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/teams/{team}", new { name = "Capacity team", agentIds = new[] { id } }));

        // Any agent may list agents.
        using var agent = gateway.Http(await gateway.LoginAsync(plain, "agent-password-1"));
        var list = await Desk.Ok(await agent.GetAsync("/api/v1/agents"));
        var listed = list.GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == id);
        Assert.Equal(7, listed.GetProperty("capacity").GetInt32());
        Assert.Equal("agent", listed.Str("role"));
        Assert.Equal([team], Strings(listed.GetProperty("teams")));
        Assert.Equal("offline", listed.Str("status"));
        Assert.Equal(0, listed.GetProperty("openConversations").GetInt32());
        Assert.Empty(Strings(list.GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == plain).GetProperty("teams")));
    }

    [Fact]
    public async Task Patch_changes_an_agents_name_role_capacity_and_password()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (id, _) = await gateway.CreateAgentAsync();

        var patched = await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { displayName = "  Zoe  ", capacity = 12 }));
        Assert.Equal("Zoe", patched.Str("displayName"));
        Assert.Equal(12, patched.GetProperty("capacity").GetInt32());
        Assert.Equal("agent", patched.Str("role"));
        var listed = (await Desk.Ok(await admin.GetAsync("/api/v1/agents"))).GetProperty("agents").EnumerateArray().Single(a => a.Str("agentId") == id);
        Assert.Equal(12, listed.GetProperty("capacity").GetInt32());
        Assert.Equal("Zoe", listed.Str("displayName"));

        await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/agents/{id}", new { password = "a-new-password", role = "admin" }));
        using (var http = gateway.Http())
        {
            var old = await http.PostAsJsonAsync("/api/v1/auth/login", new { username = id, password = "agent-password-1" });
            Assert.Equal("invalid_credentials", await Desk.ProblemCode(old, HttpStatusCode.Unauthorized));
        }

        // The new role comes with the next login: now this agent may manage others.
        using var promoted = gateway.Http(await gateway.LoginAsync(id, "a-new-password"));
        await Desk.Ok(await promoted.PatchAsJsonAsync($"/api/v1/agents/{id}", new { displayName = "Zoe A." }));

        foreach (var body in new object[]
        {
            new { },
            new { displayName = " " },
            new { displayName = new string('x', 101) },
            new { role = "owner" },
            new { capacity = 0 },
            new { capacity = 1001 },
            new { password = "short" },
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PatchAsJsonAsync($"/api/v1/agents/{id}", body), HttpStatusCode.BadRequest));
        }

        Assert.Equal("not_found", await Desk.ProblemCode(await admin.PatchAsJsonAsync("/api/v1/agents/nobody-here", new { capacity = 3 }), HttpStatusCode.NotFound));
        Assert.Equal("conflict", await Desk.ProblemCode(await admin.PatchAsJsonAsync("/api/v1/agents/admin", new { role = "agent" }), HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Agents_may_read_the_configuration_but_get_403_on_every_admin_endpoint()
    {
        var (agentId, token) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(token);
        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => agent.PostAsJsonAsync("/api/v1/agents", new { username = Unique("x"), password = "agent-password-1" }),
            () => agent.PatchAsJsonAsync($"/api/v1/agents/{agentId}", new { capacity = 100 }),
            () => agent.PutAsJsonAsync("/api/v1/teams/mine", new { name = "Mine", agentIds = new[] { agentId } }),
            () => agent.DeleteAsync("/api/v1/teams/mine"),
            () => agent.PutAsJsonAsync("/api/v1/inboxes/mine", new { name = "Mine" }),
            () => agent.DeleteAsync("/api/v1/inboxes/default"),
            () => agent.PostAsJsonAsync("/api/v1/canned-replies", new { shortcut = "mine", text = "Mine" }),
            () => agent.PutAsJsonAsync("/api/v1/canned-replies/mine", new { shortcut = "mine", text = "Mine" }),
            () => agent.DeleteAsync("/api/v1/canned-replies/mine"),
        };
        foreach (var request in requests)
        {
            await AuthorizationTests.AssertProblemAsync(await request(), HttpStatusCode.Forbidden, "not_allowed");
        }

        foreach (var path in new[] { "/api/v1/agents", "/api/v1/agents/me", "/api/v1/teams", "/api/v1/inboxes", "/api/v1/canned-replies" })
        {
            await Desk.Ok(await agent.GetAsync(path));
        }

        // Visitors are not agents.
        var (_, visitorToken) = await gateway.CreateVisitorAsync();
        using var visitor = gateway.Http(visitorToken);
        foreach (var path in new[] { "/api/v1/agents", "/api/v1/agents/me", "/api/v1/teams", "/api/v1/inboxes", "/api/v1/canned-replies" })
        {
            await AuthorizationTests.AssertProblemAsync(await visitor.GetAsync(path), HttpStatusCode.Forbidden, "not_allowed");
        }

        await AuthorizationTests.AssertProblemAsync(await visitor.PutAsJsonAsync("/api/v1/agents/me/status", new { status = "online" }), HttpStatusCode.Forbidden, "not_allowed");
    }

    [Fact]
    public async Task Teams_hold_existing_agents_and_a_deleted_team_leaves_its_inboxes()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (a, agentToken) = await gateway.CreateAgentAsync();
        var team = Unique("team");
        var saved = await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/teams/{team}", new { name = " Billing ", agentIds = new[] { a, a } }));
        Assert.Equal("Billing", saved.Str("name"));
        Assert.Equal([a], Strings(saved.GetProperty("agentIds")));

        using var agent = gateway.Http(agentToken);
        var teams = await Desk.Ok(await agent.GetAsync("/api/v1/teams"));
        Assert.Contains(teams.GetProperty("teams").EnumerateArray(), t => t.Str("teamId") == team && t.Str("name") == "Billing");

        foreach (var (path, body) in new (string, object)[]
        {
            ($"/api/v1/teams/{team}", new { name = "Billing", agentIds = new[] { "nobody-here" } }),
            ($"/api/v1/teams/{team}", new { agentIds = new[] { a } }),
            ($"/api/v1/teams/{team}", new { name = new string('n', 101) }),
            ("/api/v1/teams/Not%20Valid", new { name = "Billing" }),
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PutAsJsonAsync(path, body), HttpStatusCode.BadRequest));
        }

        var inbox = Unique("inbox");
        await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/inboxes/{inbox}", new { name = "Billing inbox", teams = new[] { team } }));
        Assert.Equal([team], Strings((await InboxAsync(admin, inbox)).GetProperty("teams")));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/teams/{team}")).StatusCode);
        Assert.Empty(Strings((await InboxAsync(admin, inbox)).GetProperty("teams")));
        Assert.DoesNotContain((await Desk.Ok(await agent.GetAsync("/api/v1/teams"))).GetProperty("teams").EnumerateArray(), t => t.Str("teamId") == team);
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync($"/api/v1/teams/{team}"), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task Inboxes_get_a_public_key_that_updates_keep_and_are_validated()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var team = Unique("team");
        await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/teams/{team}", new { name = "Support", agentIds = Array.Empty<string>() }));
        var inbox = Unique("inbox");
        var body = new
        {
            name = "Shop",
            assignmentPolicy = "round_robin",
            maxOpen = 20,
            teams = new[] { team },
            businessHours = new { timeZone = "Asia/Shanghai", days = new[] { new { day = "monday", open = "09:00", close = "18:00" }, new { day = "saturday", open = "10:00", close = "24:00" } } },
            awayMessage = "We are away",
            greeting = "Hello!",
            preChatForm = true,
        };
        var created = await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/inboxes/{inbox}", body));
        var key = created.Str("publicKey")!;
        Assert.Matches(PublicKey(), key);
        Assert.Equal("round_robin", created.Str("assignmentPolicy"));
        Assert.Equal(20, created.GetProperty("maxOpen").GetInt32());
        Assert.True(created.GetProperty("preChatForm").GetBoolean());
        var hours = created.GetProperty("businessHours");
        Assert.Equal("Asia/Shanghai", hours.Str("timeZone"));
        Assert.Equal(["monday 09:00-18:00", "saturday 10:00-24:00"], hours.GetProperty("days").EnumerateArray().Select(d => $"{d.Str("day")} {d.Str("open")}-{d.Str("close")}"));

        // A replacement keeps the key; whatever is left out goes back to its default.
        var updated = await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/inboxes/{inbox}", new { name = "Shop 2" }));
        Assert.Equal(key, updated.Str("publicKey"));
        Assert.Equal("Shop 2", updated.Str("name"));
        Assert.Equal("least_busy", updated.Str("assignmentPolicy"));
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("businessHours").ValueKind);
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("maxOpen").ValueKind);

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal(key, (await InboxAsync(agent, inbox)).Str("publicKey"));

        object Hours(string timeZone, string day, string open, string close) => new { name = "x", businessHours = new { timeZone, days = new[] { new { day, open, close } } } };
        foreach (var (path, bad) in new (string, object)[]
        {
            ($"/api/v1/inboxes/{inbox}", new { }),
            ($"/api/v1/inboxes/{inbox}", new { name = "" }),
            ($"/api/v1/inboxes/{inbox}", new { name = new string('n', 101) }),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", assignmentPolicy = "fastest" }),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", maxOpen = 0 }),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", maxOpen = 100001 }),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", teams = new[] { "no-such-team" } }),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", awayMessage = new string('a', 1001) }),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", greeting = new string('g', 1001) }),
            ($"/api/v1/inboxes/{inbox}", Hours("Mars/Olympus_Mons", "monday", "09:00", "18:00")),
            ($"/api/v1/inboxes/{inbox}", Hours("Europe/Paris", "funday", "09:00", "18:00")),
            ($"/api/v1/inboxes/{inbox}", Hours("Europe/Paris", "monday", "9am", "18:00")),
            ($"/api/v1/inboxes/{inbox}", Hours("Europe/Paris", "monday", "18:00", "09:00")),
            ($"/api/v1/inboxes/{inbox}", Hours("Europe/Paris", "monday", "09:00", "09:00")),
            ($"/api/v1/inboxes/{inbox}", new { name = "x", businessHours = new { days = Array.Empty<object>() } }),
            ("/api/v1/inboxes/Bad%20Id", new { name = "x" }),
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PutAsJsonAsync(path, bad), HttpStatusCode.BadRequest));
        }

        Assert.Equal("Shop 2", (await InboxAsync(admin, inbox)).Str("name"));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/inboxes/{inbox}")).StatusCode);
        Assert.DoesNotContain((await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray(), i => i.Str("inboxId") == inbox);
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync($"/api/v1/inboxes/{inbox}"), HttpStatusCode.NotFound));
        using var anonymous = gateway.Http();
        Assert.Equal("not_found", await Desk.ProblemCode(await anonymous.GetAsync($"/api/v1/widget/{key}"), HttpStatusCode.NotFound));

        // Re-created under the same id, it is a new inbox with a new key.
        var again = await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/inboxes/{inbox}", new { name = "Shop 3" }));
        Assert.NotEqual(key, again.Str("publicKey"));
    }

    [Fact]
    public async Task The_default_inbox_exists_with_a_key_and_cannot_be_deleted()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var inbox = await InboxAsync(admin, "default");
        var key = inbox.Str("publicKey")!;
        Assert.Matches(PublicKey(), key);
        // (The shared chat fixture switched the default inbox to manual assignment; a new tenant's is least_busy.)
        Assert.Contains(inbox.Str("assignmentPolicy"), new[] { "least_busy", "manual" });

        Assert.Equal("conflict", await Desk.ProblemCode(await admin.DeleteAsync("/api/v1/inboxes/default"), HttpStatusCode.Conflict));
        Assert.Equal(key, (await InboxAsync(admin, "default")).Str("publicKey"));

        using var anonymous = gateway.Http();
        var widget = await Desk.Ok(await anonymous.GetAsync($"/api/v1/widget/{key}"));
        Assert.Equal("default", widget.Str("tenant"));
        Assert.Equal("default", widget.Str("inboxId"));
    }

    [Fact]
    public async Task Canned_replies_have_unique_shortcuts()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var shortcut = Unique("hi");
        var response = await admin.PostAsJsonAsync("/api/v1/canned-replies", new { shortcut, text = "Hello, how can I help?" });
        var created = await Desk.Ok(response);
        var id = created.Str("id")!;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/v1/canned-replies/{id}", response.Headers.Location?.OriginalString);
        Assert.True(Ulid.TryParse(id, out _), id);

        Assert.Equal("conflict", await Desk.ProblemCode(await admin.PostAsJsonAsync("/api/v1/canned-replies", new { shortcut, text = "Again" }), HttpStatusCode.Conflict));
        var other = (await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/canned-replies", new { shortcut = shortcut + "2", text = "Other" }))).Str("id")!;
        Assert.Equal("conflict", await Desk.ProblemCode(await admin.PutAsJsonAsync($"/api/v1/canned-replies/{other}", new { shortcut, text = "Other" }), HttpStatusCode.Conflict));

        // Changing its own text under the same shortcut is fine.
        var changed = await Desk.Ok(await admin.PutAsJsonAsync($"/api/v1/canned-replies/{id}", new { shortcut, text = "Hi! What can I do for you?" }));
        Assert.Equal(id, changed.Str("id"));

        foreach (var bad in new object[]
        {
            new { shortcut = "Hello!", text = "x" },
            new { shortcut = "", text = "x" },
            new { shortcut = new string('s', 33), text = "x" },
            new { shortcut = Unique("ok"), text = " " },
            new { shortcut = Unique("ok"), text = new string('t', 4001) },
            new { text = "x" },
        })
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PostAsJsonAsync("/api/v1/canned-replies", bad), HttpStatusCode.BadRequest));
        }

        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PutAsJsonAsync("/api/v1/canned-replies/no%20spaces", new { shortcut = Unique("ok"), text = "x" }), HttpStatusCode.BadRequest));

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        var list = (await Desk.Ok(await agent.GetAsync("/api/v1/canned-replies"))).GetProperty("cannedReplies").EnumerateArray().ToArray();
        Assert.Contains(list, r => r.Str("id") == id && r.Str("shortcut") == shortcut && r.Str("text") == "Hi! What can I do for you?");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/canned-replies/{id}")).StatusCode);
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync($"/api/v1/canned-replies/{id}"), HttpStatusCode.NotFound));

        // A deleted reply's shortcut is free again.
        await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/canned-replies", new { shortcut, text = "Back" }));
    }

    private static async Task<JsonElement> InboxAsync(HttpClient http, string inboxId) =>
        (await Desk.Ok(await http.GetAsync("/api/v1/inboxes"))).GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == inboxId);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    [GeneratedRegex("^pk_[A-Za-z0-9_-]{24}$")]
    private static partial Regex PublicKey();
}
