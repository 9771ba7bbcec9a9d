using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Crm;

/// <summary>
/// One silo with a CRM per scenario (each its own tenant and its own part of one fake CRM), fast backoff and a fast trigger.
/// A scenario's CRM is named after it; its tenant is <c>crm-{name}</c>.
/// </summary>
public sealed class CrmFixture : IAsyncLifetime
{
    public static readonly string[] Scenarios =
    [
        "happy", "reset", "flaky", "limited", "stall", "corrupt", "slow", "refused", "down", "kefuwins", "crmwins", "newest", "manual", "activity",
    ];

    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public IClusterClient Client => Cluster.Client;

    public FakeCrm Crm { get; private set; } = null!;

    public IEventLog EventLog => Cluster.Silos[0].ServiceProvider.GetRequiredService<IEventLog>();

    public async Task InitializeAsync()
    {
        Crm = await FakeCrm.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Kefu:Crm:PollInterval"] = "00:00:00.100",
            ["Kefu:Crm:ReconcileInterval"] = "00:00:00",
            ["Kefu:Crm:Secrets:crm-token"] = "crm-s3cret",
        };
        foreach (var name in Scenarios)
        {
            var at = $"Kefu:Crm:Connectors:{name}";
            settings[$"{at}:Tenant"] = TenantOf(name);
            settings[$"{at}:BaseUrl"] = new Uri(Crm.BaseUrl, name).ToString();
            settings[$"{at}:Auth:Header"] = "Authorization";
            settings[$"{at}:Auth:Prefix"] = "Bearer ";
            settings[$"{at}:Auth:SecretRef"] = "crm-token";
            settings[$"{at}:StepTimeout"] = name == "stall" ? "00:00:01" : "00:00:05";
            settings[$"{at}:Retry:BaseDelay"] = "00:00:00.100";
            settings[$"{at}:Retry:MaxDelay"] = "00:00:00.400";
            settings[$"{at}:Retry:MaxAttempts"] = name == "down" ? "3" : "20";
            settings[$"{at}:CircuitBreaker:MinimumThroughput"] = "1000";
            settings[$"{at}:Contacts:Upsert:Method"] = "PUT";
            settings[$"{at}:Contacts:Upsert:Path"] = "/contacts/{id}";
            settings[$"{at}:Contacts:Get:Method"] = "GET";
            settings[$"{at}:Contacts:Get:Path"] = "/contacts/{id}";
            settings[$"{at}:Contacts:Fields:externalId"] = "customerId";
            settings[$"{at}:Contacts:Fields:name"] = "name";
            settings[$"{at}:Contacts:Fields:email"] = "email";
            settings[$"{at}:Contacts:Fields:attributes.plan"] = "plan";
            settings[$"{at}:Contacts:UpdatedAtPath"] = "updatedAt";
            settings[$"{at}:DefaultPolicy"] = name switch
            {
                "crmwins" => "crm_wins",
                "newest" => "newest_wins",
                "manual" => "manual",
                _ => "kefu_wins",
            };
            if (name == "activity")
            {
                settings[$"{at}:Conversations:Upsert:Path"] = "/activities/{id}";
                settings[$"{at}:Conversations:Get:Path"] = "/activities/{id}";
                settings[$"{at}:Conversations:Fields:conversationId"] = "kefuConversationId";
                settings[$"{at}:Conversations:Fields:status"] = "status";
                settings[$"{at}:Conversations:Fields:messageCount"] = "messages";
                settings[$"{at}:Conversations:Fields:transcript"] = "transcript";
                settings[$"{at}:Conversations:Constants:type"] = "\"chat\"";
            }
        }

        _cluster = await KefuTestCluster.StartAsync(settings);
    }

    public static string TenantOf(string scenario) => "crm-" + scenario;

    /// <summary>A new contact in the scenario's tenant (committed locally: the CRM hears of it afterwards).</summary>
    public async Task<Contact> NewContactAsync(string scenario, string name, string email, string plan = "basic")
    {
        var externalId = "u-" + Ulid.NewUlid();
        var lookup = await Client.GetGrain<IContactIndexGrain>(Tenancy.Key(TenantOf(scenario), externalId))
            .FindOrCreate(new ContactPatch(name, email, new Dictionary<string, string?> { ["plan"] = plan }), Causation.Of("test"));
        return lookup.Contact;
    }

    public Task<Outcome<Contact>> UpdateContactAsync(string scenario, string contactId, ContactPatch patch) =>
        Client.GetGrain<IContactGrain>(Tenancy.Key(TenantOf(scenario), contactId)).Update(patch, Causation.Of("test"));

    public ICrmSyncGrain Sync(string scenario, string contactId, string kind = CrmRecordKinds.Contact) =>
        Client.GetGrain<ICrmSyncGrain>(CrmSyncKeys.Of(TenantOf(scenario), scenario, kind, contactId));

    /// <summary>Waits until the record is in <paramref name="state"/> (and, if given, <paramref name="also"/> holds).</summary>
    public async Task<CrmSyncView> WaitForAsync(string scenario, string recordId, string state, Func<CrmSyncView, bool>? also = null, string kind = CrmRecordKinds.Contact)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var view = await Sync(scenario, recordId, kind).Get();
            if (view is not null && view.State == state && (also?.Invoke(view) ?? true))
            {
                return view;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {scenario} {kind} {recordId} to be {state}; it is {view}");
            await Task.Delay(20);
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        await Crm.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class CrmCollection : ICollectionFixture<CrmFixture>
{
    public const string Name = "crm";
}
