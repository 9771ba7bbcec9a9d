using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests;

/// <summary>
/// A gateway whose keys have a small per-key budget (40 requests, then about one per 1 000 s) and whose addresses may
/// present 10 refused keys a minute.
/// </summary>
public sealed class ApiKeysGatewayFixture : GatewayFixture
{
    public const int Burst = 40;

    /// <summary>Tests that refuse keys on purpose speak from their own address (X-Forwarded-For) when they need a clean count.</summary>
    public const int FailuresPerMinute = 10;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Kefu:ApiKeys:FailuresPerMinute"] = FailuresPerMinute.ToString(CultureInfo.InvariantCulture),
        ["Kefu:ApiKeys:RequestsPerSecond"] = "0.001",
        ["Kefu:ApiKeys:Burst"] = Burst.ToString(CultureInfo.InvariantCulture),
    };
}

[CollectionDefinition(Name)]
public sealed class ApiKeysGatewayCollection : ICollectionFixture<ApiKeysGatewayFixture>
{
    public const string Name = "api-keys-gateway";
}

/// <summary>
/// Service API keys end to end (issue #14, INTEGRATION.md §1, docs/integration.md §7): shown once, stored hashed, listed
/// without secrets, revoked at once, expiry, scopes, inbox restriction, per-key rate limit, and the key named in the
/// events it causes.
/// </summary>
[Collection(ApiKeysGatewayCollection.Name)]
public sealed class ApiKeyTests(ApiKeysGatewayFixture gateway)
{
    [Fact]
    public async Task A_created_key_is_shown_once_and_listed_without_its_secret_with_its_last_use()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var response = await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "Order system", scopes = new[] { "events:read", "events:read", "conversations:read" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await Desk.Ok(response);
        var id = created.Str("id")!;
        var key = created.Str("key")!;
        Assert.StartsWith("kefu_sk_", key, StringComparison.Ordinal);
        Assert.Contains(id, key, StringComparison.Ordinal);
        Assert.Equal("Order system", created.Str("name"));
        Assert.Equal(["events:read", "conversations:read"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));
        Assert.Equal($"/api/v1/api-keys/{id}", response.Headers.Location?.OriginalString);

        var listed = await ListedAsync(admin, id);
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("lastUsedAt").ValueKind);
        var secret = key[("kefu_sk_".Length + id.Length)..];
        Assert.DoesNotContain(secret, await admin.GetStringAsync("/api/v1/api-keys"), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, await admin.GetStringAsync($"/api/v1/api-keys/{id}"), StringComparison.Ordinal);

        using var system = KeyClient(key);
        await Desk.Ok(await system.GetAsync("/api/v1/events?limit=1"));
        var used = (await ListedAsync(admin, id)).GetProperty("lastUsedAt").GetDateTimeOffset();
        Assert.True(used > DateTimeOffset.UtcNow.AddMinutes(-5) && used <= DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Only_admin_tokens_manage_keys()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (_, key) = await CreateKeyAsync(admin, Everything);
        using var anonymous = gateway.Http();
        Assert.Equal("unauthorized", await Desk.ProblemCode(await anonymous.GetAsync("/api/v1/api-keys"), HttpStatusCode.Unauthorized));

        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await agent.GetAsync("/api/v1/api-keys"), HttpStatusCode.Forbidden));

        // Even a key holding every scope makes no keys: keys belong to the tenant's admins.
        using var system = KeyClient(key);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await system.GetAsync("/api/v1/api-keys"), HttpStatusCode.Forbidden));
        Assert.Equal("not_allowed", await Desk.ProblemCode(
            await system.PostAsJsonAsync("/api/v1/api-keys", new { name = "escalate", scopes = Everything }), HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task Bad_key_requests_are_refused_with_a_code()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        object[] bad =
        [
            new { scopes = new[] { "events:read" } },
            new { name = " ", scopes = new[] { "events:read" } },
            new { name = "x", scopes = Array.Empty<string>() },
            new { name = "x" },
            new { name = "x", scopes = new[] { "events:delete" } },
            new { name = "x", scopes = new[] { "conversations:read" }, inboxes = new[] { "Not Valid" } },
            new { name = "x", scopes = new[] { "events:read" }, inboxes = new[] { "default" } },
            new { name = "x", scopes = new[] { "webhooks:manage" }, inboxes = new[] { "default" } },
            new { name = "x", scopes = new[] { "events:read" }, expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) },
        ];
        foreach (var body in bad)
        {
            Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.PostAsJsonAsync("/api/v1/api-keys", body), HttpStatusCode.BadRequest));
        }

        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync($"/api/v1/api-keys/{Ulid.NewUlid().ToString().ToLowerInvariant()}"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync("/api/v1/api-keys/not-a-key"), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task A_revoked_key_is_refused_on_the_next_request()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (id, key) = await CreateKeyAsync(admin, ["events:read"]);
        using var system = KeyClient(key);
        await Desk.Ok(await system.GetAsync("/api/v1/events?limit=1"));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/api-keys/{id}")).StatusCode);

        var refused = await system.GetAsync("/api/v1/events?limit=1");
        Assert.Equal("unauthorized", await Desk.ProblemCode(refused, HttpStatusCode.Unauthorized));
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);
        var list = await Desk.Ok(await admin.GetAsync("/api/v1/api-keys"));
        Assert.DoesNotContain(list.GetProperty("keys").EnumerateArray(), k => k.Str("id") == id);
        Assert.NotNull((await Desk.Ok(await admin.GetAsync($"/api/v1/api-keys/{id}"))).Str("revokedAt"));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/api-keys/{id}")).StatusCode);
    }

    [Fact]
    public async Task Unknown_wrong_and_malformed_keys_are_refused()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (id, key) = await CreateKeyAsync(admin, ["events:read"]);
        var wrongSecret = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        var unknownId = "kefu_sk_" + Ulid.NewUlid().ToString().ToLowerInvariant() + key[("kefu_sk_".Length + id.Length)..];
        foreach (var presented in new[] { wrongSecret, unknownId, "kefu_sk_", "kefu_sk_short", key + "x", key.ToUpperInvariant() })
        {
            using var system = KeyClient(presented);
            Assert.Equal("unauthorized", await Desk.ProblemCode(await system.GetAsync("/api/v1/events?limit=1"), HttpStatusCode.Unauthorized));
        }

        using var good = KeyClient(key);
        await Desk.Ok(await good.GetAsync("/api/v1/events?limit=1"));
    }

    [Fact]
    public async Task Refused_keys_from_one_address_are_answered_429_before_any_look_up()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (_, key) = await CreateKeyAsync(admin, ["events:read"]);
        var guess = "kefu_sk_" + Ulid.NewUlid().ToString().ToLowerInvariant() + new string('A', 43);
        using var guesser = KeyClient(guess, "203.0.113.41");
        for (var i = 0; i < ApiKeysGatewayFixture.FailuresPerMinute; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/events?limit=1")).StatusCode);
        }

        var limited = await guesser.GetAsync("/api/v1/events?limit=1");
        Assert.Equal("rate_limited", await Desk.ProblemCode(limited, HttpStatusCode.TooManyRequests));
        Assert.True(limited.Headers.Contains("Retry-After"));

        // Another address is not affected.
        using var elsewhere = KeyClient(key, "203.0.113.42");
        await Desk.Ok(await elsewhere.GetAsync("/api/v1/events?limit=1"));
    }

    [Fact]
    public async Task An_expired_key_is_refused()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(5);
        var (_, key) = await CreateKeyAsync(admin, ["events:read"], expiresAt: expiresAt);
        using var system = KeyClient(key);
        await Desk.Ok(await system.GetAsync("/api/v1/events?limit=1"));

        // The expiry is the grain's clock (exact boundary on a fake clock: ApiKeyExpiryTests, ApiKeyGrainTests); here: it takes effect.
        var deadline = expiresAt.AddSeconds(30);
        HttpStatusCode status;
        do
        {
            status = (await system.GetAsync("/api/v1/events?limit=1")).StatusCode;
        }
        while (status == HttpStatusCode.OK && DateTimeOffset.UtcNow < deadline && await Pause());

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(DateTimeOffset.UtcNow >= expiresAt.AddSeconds(-1), "refused before its expiry");
    }

    [Fact]
    public async Task A_key_without_the_scope_gets_403_missing_scope()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var conversationId = await StartConversationAsync();
        var (_, key) = await CreateKeyAsync(admin, ["conversations:read"]);
        using var system = KeyClient(key);

        var refused = await system.GetAsync("/api/v1/events");
        Assert.Contains("events:read", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal); // names the scope it lacks
        Assert.Equal("missing_scope", await Desk.ProblemCode(await system.GetAsync("/api/v1/events"), HttpStatusCode.Forbidden));
        Assert.Equal("missing_scope", await Desk.ProblemCode(
            await system.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }), HttpStatusCode.Forbidden));
        Assert.Equal("missing_scope", await Desk.ProblemCode(
            await system.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = new[] { "x" } }), HttpStatusCode.Forbidden));
        await Desk.Ok(await system.GetAsync($"/api/v1/conversations/{conversationId}"));

        // What stays with people is refused to keys whatever their scopes.
        var (_, all) = await CreateKeyAsync(admin, Everything);
        using var full = KeyClient(all);
        Assert.Equal(HttpStatusCode.Forbidden, (await full.GetAsync($"/api/v1/conversations/{conversationId}/notes")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await full.GetAsync("/api/v1/agents")).StatusCode);
        Assert.Equal("not_allowed", await Desk.ProblemCode(await full.PostAsync("/api/v1/auth/refresh", null), HttpStatusCode.Forbidden));
        Assert.Equal("not_allowed", await Desk.ProblemCode(await full.GetAsync("/api/v1/visitors/me"), HttpStatusCode.Forbidden));
        Assert.Equal("not_allowed", await Desk.ProblemCode(
            await full.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 5 }), HttpStatusCode.Forbidden));
        Assert.Equal("not_allowed", await Desk.ProblemCode(await full.GetAsync("/api/v1/queue"), HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task A_key_reads_and_changes_conversations_and_the_events_name_it()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var conversationId = await StartConversationAsync("where is my order?");
        var (keyId, key) = await CreateKeyAsync(admin, ["conversations:read", "conversations:write", "events:read"], name: "ERP bridge");
        using var system = KeyClient(key);

        var list = await Desk.Ok(await system.GetAsync("/api/v1/conversations?limit=500"));
        Assert.Contains(list.GetProperty("conversations").EnumerateArray(), c => c.Str("conversationId") == conversationId);
        Assert.Equal(conversationId, (await Desk.Ok(await system.GetAsync($"/api/v1/conversations/{conversationId}"))).Str("conversationId"));
        var messages = await Desk.Ok(await system.GetAsync($"/api/v1/conversations/{conversationId}/messages"));
        Assert.Contains(messages.GetProperty("messages").EnumerateArray(), m => m.Str("text") == "where is my order?");

        var labelled = await Desk.Ok(await system.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = new[] { "order" } }));
        Assert.Equal(["order"], labelled.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!));
        var transferred = await Desk.Ok(await system.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/transfer", new { agentId = "on-duty" }));
        Assert.Equal("on-duty", transferred.Str("assigneeId"));
        var resolved = await Desk.Ok(await system.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        Assert.Equal("resolved", resolved.Str("status"));

        // Every event the key caused names it (kind api_key, its id and name), never a person.
        var events = await EventsOfAsync(system, conversationId);
        var byKey = events.Where(e => e.GetProperty("causation").Str("kind") == "api_key").ToList();
        Assert.Contains(byKey, e => e.Str("type") == "conversation.status_changed");
        Assert.Contains(byKey, e => e.Str("type") == "conversation.assigned");
        Assert.All(byKey, e =>
        {
            Assert.Equal(keyId, e.GetProperty("causation").Str("id"));
            Assert.Equal("ERP bridge", e.GetProperty("causation").Str("name"));
        });
    }

    [Fact]
    public async Task A_key_restricted_to_inboxes_sees_nothing_outside_them()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var conversationId = await StartConversationAsync();
        var (_, elsewhere) = await CreateKeyAsync(admin, ["conversations:read", "conversations:write"], inboxes: ["shop", "support"]);
        using var outside = KeyClient(elsewhere);

        Assert.Equal("not_found", await Desk.ProblemCode(await outside.GetAsync($"/api/v1/conversations/{conversationId}"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await outside.GetAsync($"/api/v1/conversations/{conversationId}/messages"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(
            await outside.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(
            await outside.PatchAsJsonAsync($"/api/v1/conversations/{conversationId}", new { tags = new[] { "x" } }), HttpStatusCode.NotFound));
        var listed = await Desk.Ok(await outside.GetAsync("/api/v1/conversations?limit=500"));
        Assert.DoesNotContain(listed.GetProperty("conversations").EnumerateArray(), c => c.Str("conversationId") == conversationId);
        Assert.Empty((await Desk.Ok(await outside.GetAsync("/api/v1/conversations?inbox=default"))).GetProperty("conversations").EnumerateArray());

        var (_, inside) = await CreateKeyAsync(admin, ["conversations:read", "conversations:write"], inboxes: ["default"]);
        using var within = KeyClient(inside);
        await Desk.Ok(await within.GetAsync($"/api/v1/conversations/{conversationId}"));
        var listedInside = await Desk.Ok(await within.GetAsync("/api/v1/conversations?limit=500"));
        Assert.Contains(listedInside.GetProperty("conversations").EnumerateArray(), c => c.Str("conversationId") == conversationId);
        Assert.Equal("resolved", (await Desk.Ok(await within.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }))).Str("status"));
    }

    [Fact]
    public async Task Each_key_has_its_own_rate_limit_answered_429_with_retry_after()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var (_, busyKey) = await CreateKeyAsync(admin, ["events:read"]);
        var (_, otherKey) = await CreateKeyAsync(admin, ["events:read"]);
        using var busy = KeyClient(busyKey);

        // The budget replenishes one request per 1 000 s: the burst is all there is during this test.
        for (var i = 0; i < ApiKeysGatewayFixture.Burst; i++)
        {
            await Desk.Ok(await busy.GetAsync("/api/v1/events?limit=1"));
        }

        var limited = await busy.GetAsync("/api/v1/events?limit=1");
        Assert.Equal("rate_limited", await Desk.ProblemCode(limited, HttpStatusCode.TooManyRequests));
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) > 0);

        using var other = KeyClient(otherKey);
        await Desk.Ok(await other.GetAsync("/api/v1/events?limit=1"));
    }

    private static readonly string[] Everything =
        ["events:write", "messages:write", "conversations:read", "conversations:write", "contacts:read", "contacts:write", "events:read", "webhooks:manage"];

    /// <summary>
    /// A client presenting <paramref name="key"/> from its own address (through the fixture's trusted loopback proxy),
    /// so the refused keys of one test never count against another's.
    /// </summary>
    private HttpClient KeyClient(string key, string? address = null)
    {
        var http = gateway.Http();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        http.DefaultRequestHeaders.Add("X-Forwarded-For", address ?? $"198.18.{Random.Shared.Next(256)}.{Random.Shared.Next(1, 255)}");
        return http;
    }

    private static async Task<(string Id, string Key)> CreateKeyAsync(
        HttpClient admin, string[] scopes, string[]? inboxes = null, DateTimeOffset? expiresAt = null, string name = "Test system")
    {
        var created = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name, scopes, inboxes, expiresAt }));
        return (created.Str("id")!, created.Str("key")!);
    }

    private static async Task<JsonElement> ListedAsync(HttpClient admin, string id)
    {
        var list = await Desk.Ok(await admin.GetAsync("/api/v1/api-keys"));
        return list.GetProperty("keys").EnumerateArray().Single(k => k.Str("id") == id);
    }

    /// <summary>A visitor's first message starts a conversation in the default inbox.</summary>
    private async Task<string> StartConversationAsync(string text = "hello")
    {
        var (_, token) = await gateway.CreateVisitorAsync();
        await using var visitor = await gateway.ConnectAsync(token);
        var ack = await visitor.SendMessageAsync(text);
        return ack.Str("conversationId")!;
    }

    /// <summary>Every retained event of one conversation, read through the events API with the key.</summary>
    private static async Task<List<JsonElement>> EventsOfAsync(HttpClient http, string conversationId)
    {
        var found = new List<JsonElement>();
        string? after = null;
        while (true)
        {
            var page = await Desk.Ok(await http.GetAsync("/api/v1/events?limit=500" + (after is null ? string.Empty : "&after=" + after)));
            var events = page.GetProperty("events").EnumerateArray().ToList();
            found.AddRange(events.Where(e => e.Str("conversationId") == conversationId));
            if (events.Count == 0)
            {
                return found;
            }

            after = page.Str("next");
        }
    }

    /// <summary>Between polls: slow enough that polling stays well within the key's budget of the fixture.</summary>
    private static async Task<bool> Pause()
    {
        await Task.Delay(500);
        return true;
    }
}
