using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Tests.Crm;

namespace Kefu.Gateway.Tests.Crm;

/// <summary>A gateway whose tenant syncs contacts to two CRMs of one fake: <c>good</c> takes everything, <c>picky</c> refuses while told to.</summary>
public sealed class CrmGatewayFixture : GatewayFixture
{
    public CrmGatewayFixture()
    {
        Crm = FakeCrm.StartAsync().GetAwaiter().GetResult();
        Crm.For("good");
        Crm.For("picky");
    }

    public FakeCrm Crm { get; }

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["Kefu:Crm:PollInterval"] = "00:00:00.100",
                ["Kefu:Crm:Secrets:token"] = "t0ken",
            };
            foreach (var name in new[] { "good", "picky" })
            {
                var at = $"Kefu:Crm:Connectors:{name}";
                settings[$"{at}:BaseUrl"] = new Uri(Crm.BaseUrl, name).ToString();
                settings[$"{at}:Auth:SecretRef"] = "token";
                settings[$"{at}:Retry:BaseDelay"] = "00:00:00.100";
                settings[$"{at}:Retry:MaxDelay"] = "00:00:00.200";
                settings[$"{at}:Contacts:Upsert:Path"] = "/contacts/{id}";
                settings[$"{at}:Contacts:Get:Path"] = "/contacts/{id}";
                settings[$"{at}:Contacts:Fields:name"] = "name";
                settings[$"{at}:Contacts:Fields:email"] = "email";
            }

            // Resolved conversations go to "good" only (the timeline shows their sync).
            settings["Kefu:Crm:Connectors:good:Conversations:Upsert:Path"] = "/conversations/{id}";
            settings["Kefu:Crm:Connectors:good:Conversations:Get:Path"] = "/conversations/{id}";
            settings["Kefu:Crm:Connectors:good:Conversations:Fields:conversationId"] = "kefu_conversation_id";
            settings["Kefu:Crm:Connectors:good:Conversations:Fields:status"] = "status";

            return settings;
        }
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Crm.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class CrmGatewayCollection : ICollectionFixture<CrmGatewayFixture>
{
    public const string Name = "crm-gateway";
}

/// <summary>GET /api/v1/contacts/{id}/crm, GET /api/v1/crm/sync, retry and resolve (issue #17 item 7).</summary>
[Collection(CrmGatewayCollection.Name)]
public sealed class CrmApiTests(CrmGatewayFixture gateway)
{
    [Fact]
    public async Task A_contact_shows_its_state_in_each_crm_and_a_refused_one_is_listed_and_retried()
    {
        var picky = gateway.Crm.For("picky");
        var refuse = 1;
        picky.Script = (request, _) => request.IsWrite && Volatile.Read(ref refuse) == 1 ? new CrmFault(Status: 422) : null;
        gateway.Crm.For("good");
        using var admin = gateway.Http(await gateway.LoginAsync());
        var contactId = await NewContactAsync(admin, "Lin", "lin@example.com");

        var records = await WaitAsync(admin, contactId, r => r.Count == 2 && State(r, "good") == "in_sync" && State(r, "picky") == "failed");
        var failed = records.Single(r => r.Str("crm") == "picky");
        Assert.Equal(422, failed.GetProperty("lastHttpStatus").GetInt32());
        Assert.Contains("HTTP 422", failed.Str("lastError"), StringComparison.Ordinal);
        Assert.Equal(contactId, records[0].Str("recordId"));

        var list = await Desk.Ok(await admin.GetAsync("/api/v1/crm/sync?status=failed"));
        Assert.Contains(list.GetProperty("records").EnumerateArray(), r => r.Str("recordId") == contactId && r.Str("crm") == "picky");

        Volatile.Write(ref refuse, 0);
        var retried = await Desk.Ok(await admin.PostAsync($"/api/v1/crm/sync/picky/contact/{contactId}/retry", null));
        Assert.Equal("pending", retried.Str("state"));
        await WaitAsync(admin, contactId, r => State(r, "picky") == "in_sync");
        Assert.Equal("lin@example.com", (string?)picky.Records["contacts/" + contactId]["email"]);
    }

    [Fact]
    public async Task A_resolved_conversations_sync_shows_in_its_activity()
    {
        var desk = await Desk.CreateAsync(gateway, agents: 1, capacity: 3);
        var (_, _, visitor) = await desk.VisitorAsync();
        await using var chat = visitor;
        var conversationId = (await visitor.SendMessageAsync("please log this")).Str("conversationId")!;
        using var admin = gateway.Http(await gateway.LoginAsync());
        var before = await Desk.Ok(await admin.GetAsync($"/api/v1/conversations/{conversationId}/activity"));
        Assert.DoesNotContain(before.GetProperty("crm").EnumerateArray(), c => c.Str("state") == "in_sync");

        await Desk.Ok(await admin.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement synced;
        while (true)
        {
            var page = await Desk.Ok(await admin.GetAsync($"/api/v1/conversations/{conversationId}/activity"));
            var crm = page.GetProperty("crm").EnumerateArray().ToList();
            if (crm.FirstOrDefault(c => c.Str("crm") == "good" && c.Str("state") == "in_sync") is { ValueKind: JsonValueKind.Object } found)
            {
                synced = found;
                Assert.DoesNotContain(crm, c => c.Str("crm") == "picky"); // it syncs contacts only
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the conversation did not reach the CRM in time");
            await Task.Delay(100);
        }

        Assert.Equal(JsonValueKind.String, synced.GetProperty("inSyncAt").ValueKind);
        Assert.Equal("resolved", (string?)gateway.Crm.For("good").Records["conversations/" + conversationId]["status"]);
    }

    [Fact]
    public async Task Bad_requests_get_their_codes()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.GetAsync("/api/v1/crm/sync?status=lost"), HttpStatusCode.BadRequest));
        Assert.Equal("invalid_field", await Desk.ProblemCode(await admin.GetAsync("/api/v1/crm/sync?limit=0"), HttpStatusCode.BadRequest));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync($"/api/v1/contacts/{Ulid.NewUlid()}/crm"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.PostAsync($"/api/v1/crm/sync/nowhere/contact/{Ulid.NewUlid()}/retry", null), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.PostAsync($"/api/v1/crm/sync/good/order/{Ulid.NewUlid()}/retry", null), HttpStatusCode.NotFound));
        Assert.Equal("missing_field", await Desk.ProblemCode(
            await admin.PostAsync($"/api/v1/crm/sync/good/contact/{Ulid.NewUlid()}/resolve", Json("{}")), HttpStatusCode.BadRequest));

        var contactId = await NewContactAsync(admin, "Mo", "mo@example.com");
        await WaitAsync(admin, contactId, r => State(r, "good") == "in_sync");
        Assert.Equal("invalid_state", await Desk.ProblemCode(
            await admin.PostAsync($"/api/v1/crm/sync/good/contact/{contactId}/resolve", Json("""{"fields":{"email":"crm"}}""")), HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Keys_need_contacts_scopes()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var key = await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "crm-reader-" + Ulid.NewUlid(), scopes = new[] { "contacts:read" } }));
        using var reader = gateway.Http(key.Str("key"));

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/crm/sync")).StatusCode);
        Assert.Equal("missing_scope", await Desk.ProblemCode(await reader.PostAsync($"/api/v1/crm/sync/good/contact/{Ulid.NewUlid()}/retry", null), HttpStatusCode.Forbidden));
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Http().GetAsync("/api/v1/crm/sync")).StatusCode);
    }

    private static async Task<string> NewContactAsync(HttpClient admin, string name, string email)
    {
        var id = "crm-" + Ulid.NewUlid();
        var body = JsonSerializer.Serialize(new { id, type = "signup", contact = new { externalId = "u-" + id, name, email } });
        var accepted = await admin.PostAsync("/api/v1/webhook", Json(body));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        return (await accepted.Content.ReadFromJsonAsync<JsonElement>()).Str("contactId")!;
    }

    private static async Task<List<JsonElement>> WaitAsync(HttpClient admin, string contactId, Func<List<JsonElement>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var page = await Desk.Ok(await admin.GetAsync($"/api/v1/contacts/{contactId}/crm"));
            var records = page.GetProperty("records").EnumerateArray().ToList();
            if (condition(records))
            {
                return records;
            }

            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting; last: " + page);
            await Task.Delay(50);
        }
    }

    private static string? State(List<JsonElement> records, string crm) => records.FirstOrDefault(r => r.Str("crm") == crm) is { ValueKind: JsonValueKind.Object } r ? r.Str("state") : null;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
