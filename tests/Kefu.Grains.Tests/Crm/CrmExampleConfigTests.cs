using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Crm;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tests.Crm;

/// <summary>
/// The example configurations in config/crm/ produce the requests HubSpot and Salesforce document for an upsert by an
/// external id (method, path, body shape), and read their answers back into an in-sync record.
/// </summary>
public sealed class CrmExampleConfigTests
{
    private static readonly Contact Ann = new("01JCONTACT0000000000000000", "u-42", "Ann Lee", "ann@example.com",
        new Dictionary<string, string> { ["plan"] = "gold" }, [], null, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow);

    [Fact]
    public async Task Hubspot_contacts_are_batch_upserted_by_the_kefu_id_property_and_read_back_by_it()
    {
        await using var hubspot = await ShapeServer.StartAsync(HubspotAsync);
        var (crm, options) = Load("hubspot.json", "hubspot", hubspot.BaseUrl);

        var result = await Attempt(options, "hubspot", crm, crm.Contacts!, CrmRecordKinds.Contact, Ann.ContactId, CrmFields.Of(Ann));

        Assert.Equal(CrmAttemptOutcome.InSync, result.Outcome);
        var upsert = hubspot.Requests.First(r => r.Method == "POST");
        Assert.Equal("/crm/v3/objects/contacts/batch/upsert", upsert.Path);
        Assert.Equal("Bearer hubspot-token", upsert.Authorization);
        var input = JsonNode.Parse(upsert.Body)!["inputs"]!.AsArray().Single()!;
        Assert.Equal("kefu_contact_id", (string?)input["idProperty"]);
        Assert.Equal(Ann.ContactId, (string?)input["id"]);
        Assert.Equal("ann@example.com", (string?)input["properties"]!["email"]);
        Assert.Equal("Ann Lee", (string?)input["properties"]!["firstname"]);
        Assert.Equal("gold", (string?)input["properties"]!["plan"]);
        var read = hubspot.Requests.Last(r => r.Method == "GET");
        Assert.StartsWith($"/crm/v3/objects/contacts/{Ann.ContactId}?idProperty=kefu_contact_id&properties=", read.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Salesforce_contacts_are_patched_by_their_external_id_field_and_read_back_by_it()
    {
        await using var salesforce = await ShapeServer.StartAsync(SalesforceAsync);
        var (crm, options) = Load("salesforce.json", "salesforce", salesforce.BaseUrl);

        var result = await Attempt(options, "salesforce", crm, crm.Contacts!, CrmRecordKinds.Contact, Ann.ContactId, CrmFields.Of(Ann));

        Assert.Equal(CrmAttemptOutcome.InSync, result.Outcome);
        var upsert = salesforce.Requests.Single(r => r.Method == "PATCH");
        Assert.Equal($"/services/data/v62.0/sobjects/Contact/Kefu_Contact_Id__c/{Ann.ContactId}", upsert.Path);
        var body = JsonNode.Parse(upsert.Body)!.AsObject();
        Assert.Equal(["Customer_Id__c", "Email", "LastName", "Plan__c"], body.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("Ann Lee", (string?)body["LastName"]);
        Assert.Equal("Bearer salesforce-token", upsert.Authorization);
    }

    [Fact]
    public async Task Salesforce_tasks_carry_the_transcript_as_description_with_the_constant_subject()
    {
        await using var salesforce = await ShapeServer.StartAsync(SalesforceAsync);
        var (crm, options) = Load("salesforce.json", "salesforce", salesforce.BaseUrl);
        var summary = new ConversationSummary("01JCONV00000000000000000000", "default", "support", "v-1", "Ann", ConversationStatus.Resolved, null, 1,
            DateTimeOffset.UtcNow, [], ResolvedAt: DateTimeOffset.UtcNow);
        var messages = new[] { new ChatMessage(summary.ConversationId, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v-1", "Ann"), "hello", DateTimeOffset.UtcNow, "c1") };

        var result = await Attempt(options, "salesforce", crm, crm.Conversations!, CrmRecordKinds.Conversation, summary.ConversationId,
            CrmFields.Of(summary, null, messages));

        Assert.Equal(CrmAttemptOutcome.InSync, result.Outcome);
        var upsert = salesforce.Requests.Single(r => r.Method == "PATCH");
        Assert.Equal($"/services/data/v62.0/sobjects/Task/Kefu_Conversation_Id__c/{summary.ConversationId}", upsert.Path);
        var body = JsonNode.Parse(upsert.Body)!;
        Assert.Equal("Chat conversation", (string?)body["Subject"]);
        Assert.Equal("Completed", (string?)body["Status"]);
        Assert.Contains("visitor Ann: hello", (string?)body["Description"], StringComparison.Ordinal);
    }

    [Fact]
    public void Both_examples_are_valid_configurations()
    {
        foreach (var (file, name) in new[] { ("hubspot.json", "hubspot"), ("salesforce.json", "salesforce") })
        {
            var (_, options) = Load(file, name, new Uri("http://127.0.0.1:1"));
            Assert.Empty(options.Problems());
        }
    }

    private static (CrmConnectorOptions Crm, CrmOptions Options) Load(string file, string name, Uri baseUrl)
    {
        var path = Routing.RepositoryFiles.Path(Path.Combine("config", "crm", file));
        var configuration = new ConfigurationBuilder().AddJsonFile(path).Build();
        var options = new CrmOptions();
        configuration.GetSection(CrmOptions.Section).Bind(options);
        var crm = options.Connectors[name];
        crm.BaseUrl = baseUrl.ToString().TrimEnd('/');
        options.Secrets[crm.Auth!.SecretRef] = name + "-token";
        return (crm, options);
    }

    private static Task<CrmAttemptResult> Attempt(CrmOptions options, string name, CrmConnectorOptions crm, CrmRecordOptions record, string kind, string id, CrmSnapshot local)
    {
        var connector = new CrmConnector(new OneClient(), new FixedMonitor(options), TimeProvider.System);
        return new CrmSyncAttempt(connector).RunAsync(new CrmAttemptInput("default", name, crm, record, kind, id, local, null, null), CancellationToken.None);
    }

    /// <summary>HubSpot's batch upsert and read by a unique property, as documented (only what the sync uses).</summary>
    private static async Task HubspotAsync(HttpContext context, string body, ConcurrentDictionary<string, JsonObject> store)
    {
        var path = context.Request.Path.Value!;
        if (context.Request.Method == "POST" && path.EndsWith("/batch/upsert", StringComparison.Ordinal))
        {
            foreach (var input in JsonNode.Parse(body)!["inputs"]!.AsArray())
            {
                store[(string)input!["id"]!] = input["properties"]!.DeepClone().AsObject();
            }

            await context.Response.WriteAsync("""{"status":"COMPLETE","results":[]}""");
            return;
        }

        var id = path.Split('/')[^1];
        if (context.Request.Query["idProperty"] != "kefu_contact_id" || !store.TryGetValue(id, out var properties))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var answer = new JsonObject { ["id"] = "512", ["properties"] = properties.DeepClone(), ["updatedAt"] = "2026-12-07T06:00:00.000Z" };
        await context.Response.WriteAsync(answer.ToJsonString());
    }

    /// <summary>Salesforce's upsert by an external id field (PATCH …/sobjects/{type}/{field}/{value}) and the read by it.</summary>
    private static async Task SalesforceAsync(HttpContext context, string body, ConcurrentDictionary<string, JsonObject> store)
    {
        var id = context.Request.Path.Value!;
        if (context.Request.Method == "PATCH")
        {
            store[id] = JsonNode.Parse(body)!.AsObject();
            context.Response.StatusCode = 201;
            await context.Response.WriteAsync("""{"id":"003xx000004TmiQAAS","success":true,"errors":[],"created":true}""");
            return;
        }

        if (!store.TryGetValue(id, out var record))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var answer = record.DeepClone().AsObject();
        answer["attributes"] = new JsonObject { ["type"] = "Contact" };
        answer["LastModifiedDate"] = "2026-12-07T06:00:00.000+0000";
        await context.Response.WriteAsync(answer.ToJsonString());
    }

    private sealed record Seen(string Method, string Path, string Body, string? Authorization);

    private sealed class ShapeServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ShapeServer(WebApplication app) => _app = app;

        public ConcurrentQueue<Seen> Requests { get; } = new();

        public Uri BaseUrl => new(_app.Urls.First());

        public static async Task<ShapeServer> StartAsync(Func<HttpContext, string, ConcurrentDictionary<string, JsonObject>, Task> handle)
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var server = new ShapeServer(app);
            var store = new ConcurrentDictionary<string, JsonObject>(StringComparer.Ordinal);
            app.Run(async context =>
            {
                using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                server.Requests.Enqueue(new Seen(context.Request.Method, context.Request.Path + context.Request.QueryString, body,
                    context.Request.Headers.Authorization.FirstOrDefault()));
                context.Response.ContentType = "application/json";
                await handle(context, body, store);
            });
            await app.StartAsync();
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed class OneClient : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new();
    }

    private sealed class FixedMonitor(CrmOptions value) : IOptionsMonitor<CrmOptions>
    {
        public CrmOptions CurrentValue => value;

        public CrmOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<CrmOptions, string?> listener) => null;
    }
}
