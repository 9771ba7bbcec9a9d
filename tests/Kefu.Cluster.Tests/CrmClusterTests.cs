using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kefu.Cluster.Tests.Infrastructure;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Tests.Crm;

namespace Kefu.Cluster.Tests;

/// <summary>
/// Cluster mode: a contact is committed and its CRM push is under way when the silo running the push is killed (-9).
/// Nothing calls the record again; its reminder brings it back on the other silo, which finishes the sync (issue #17).
/// </summary>
public sealed class CrmClusterTests
{
    [Fact]
    public async Task A_push_cut_short_by_a_killed_silo_is_finished_by_the_reminder_on_another_silo()
    {
        await using var crm = await FakeCrm.StartAsync();
        var fake = crm.For("crm");
        var stall = 1;
        fake.Script = (request, _) => request.IsWrite && Volatile.Read(ref stall) == 1 ? new CrmFault(Delay: TimeSpan.FromMinutes(2)) : null;
        var settings = new Dictionary<string, string>
        {
            ["Kefu:Crm:PollInterval"] = "00:00:00.200",
            ["Kefu:Crm:ReconcileInterval"] = "00:00:00", // no sweep: only the reminder may bring the record back
            ["Kefu:Crm:Connectors:crm:BaseUrl"] = new Uri(crm.BaseUrl, "crm").ToString(),
            ["Kefu:Crm:Connectors:crm:StepTimeout"] = "00:05:00", // the push stays in flight until the kill
            ["Kefu:Crm:Connectors:crm:Contacts:Upsert:Path"] = "/contacts/{id}",
            ["Kefu:Crm:Connectors:crm:Contacts:Get:Path"] = "/contacts/{id}",
            ["Kefu:Crm:Connectors:crm:Contacts:Fields:name"] = "name",
            ["Kefu:Crm:Connectors:crm:Contacts:Fields:email"] = "email",
        };
        await using var cluster = await KefuTestCluster.StartAsync(silos: 2, settings);
        using var admin = cluster.Http(await cluster.LoginAsync());
        var accepted = await admin.PostAsJsonAsync("/api/v1/webhook",
            new { id = "signup-" + Ulid.NewUlid(), type = "signup", contact = new { externalId = "u-" + Ulid.NewUlid(), name = "Quinn", email = "quinn@example.com" } });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var contactId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).Str("contactId")!;

        // The local commit is done and the push is in flight: kill the silo that runs it.
        await WaitUntilAsync(() => fake.WritesSeen.Any(w => w.Path.Contains(contactId, StringComparison.Ordinal)), TimeSpan.FromSeconds(60), "the first push");
        var victim = await cluster.SiloHostingAsync<ICrmSyncGrain>(CrmSyncKeys.Of(Tenancy.DefaultTenant, "crm", CrmRecordKinds.Contact, contactId));

        // The trigger has moved past the contact's event (so it will not hand it over again after the kill).
        var client = await cluster.ClientAsync();
        var trigger = client.GetGrain<Kefu.Grains.Crm.ICrmTriggerGrain>(Tenancy.DefaultTenant);
        var started = DateTime.UtcNow;
        while ((await trigger.GetStatus()).Cursor == 0)
        {
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "the trigger never moved");
            await Task.Delay(100);
        }

        Volatile.Write(ref stall, 0);
        await victim.KillAsync();

        // The other silo's reminder service takes the record's reminder over and finishes the sync. (Nothing here may
        // call the record meanwhile: any call would activate it, and an activation resumes a pending record by itself.)
        await WaitUntilAsync(() => fake.Records.ContainsKey("contacts/" + contactId), TimeSpan.FromMinutes(4), "the push finished by the reminder");
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            var response = await admin.GetAsync($"/api/v1/contacts/{contactId}/crm");
            if (response.StatusCode == HttpStatusCode.OK
                && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("records")[0].Str("state") == CrmSyncStates.InSync)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the record never got in sync after the kill");
            await Task.Delay(500);
        }

        Assert.Equal("quinn@example.com", (string?)fake.Records["contacts/" + contactId]["email"]);
        Assert.Single(fake.Records);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan giveUp, string what)
    {
        var deadline = DateTime.UtcNow + giveUp;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Gave up waiting for " + what);
            await Task.Delay(100);
        }
    }
}
