using System.Text.Json;
using System.Text.Json.Nodes;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Grains.Tests.Crm;

/// <summary>
/// CRM sync end to end on one silo against a real HTTP fake CRM with scripted faults (issue #17): local first, an upsert by
/// the Kefu id, a verified read-back, retries with backoff until the CRM holds exactly the local fields.
/// </summary>
[Collection(CrmCollection.Name)]
public sealed class CrmSyncTests(CrmFixture fixture)
{
    [Fact]
    public async Task A_new_contact_is_upserted_once_verified_in_sync_and_its_reminder_is_gone()
    {
        var crm = fixture.Crm.For("happy");
        var contact = await fixture.NewContactAsync("happy", "Ann Lee", "ann@example.com", plan: "gold");

        var view = await fixture.WaitForAsync("happy", contact.ContactId, CrmSyncStates.InSync);

        Assert.Equal(view.DesiredVersion, view.ConfirmedVersion);
        var writes = Writes(crm, contact.ContactId);
        var write = Assert.Single(writes);
        Assert.Equal("PUT", write.Method);
        Assert.Equal("Bearer crm-s3cret", write.Authorization);
        var body = JsonNode.Parse(write.Body)!;
        Assert.Equal("Ann Lee", (string?)body["name"]);
        Assert.Equal("ann@example.com", (string?)body["email"]);
        Assert.Equal("gold", (string?)body["plan"]);
        Assert.Equal(contact.ExternalId, (string?)body["customerId"]);
        Assert.StartsWith("kefu:happy:contact:" + contact.ContactId + ":", write.IdempotencyKey, StringComparison.Ordinal);
        Assert.True(crm.Records.ContainsKey("contacts/" + contact.ContactId));

        var reminders = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();
        var grain = fixture.Sync("happy", contact.ContactId).GetGrainId();
        await Scenario.EventuallyAsync(() => reminders.ReadRow(grain, "crm-sync"), r => r is null, "the backstop reminder removed");
    }

    [Fact]
    public async Task An_upsert_applied_whose_answer_is_lost_leaves_exactly_one_crm_record()
    {
        var crm = fixture.Crm.For("reset");
        crm.Script = (request, n) => request.IsWrite && n == 1 ? new CrmFault(ApplyThenReset: true) : null;
        var contact = await fixture.NewContactAsync("reset", "Bo", "bo@example.com");

        await fixture.WaitForAsync("reset", contact.ContactId, CrmSyncStates.InSync);

        Assert.Equal(2, Writes(crm, contact.ContactId).Count);
        Assert.Single(crm.Records); // the same Kefu id both times: an update, not a second record
    }

    [Fact]
    public async Task Two_server_errors_then_success_take_three_attempts_within_the_backoff_bounds()
    {
        var crm = fixture.Crm.For("flaky");
        crm.Script = (request, n) => request.IsWrite && n <= 2 ? new CrmFault(Status: 500) : null;
        var contact = await fixture.NewContactAsync("flaky", "Cy", "cy@example.com");

        var view = await fixture.WaitForAsync("flaky", contact.ContactId, CrmSyncStates.InSync);

        var writes = Writes(crm, contact.ContactId);
        Assert.Equal(3, writes.Count);
        Assert.Equal(0, view.Attempts); // a success starts the count over
        // Full jitter under a cap of 100 ms, then 200 ms (plus the time a request takes here): never the 400 ms maximum twice over.
        Assert.True(writes[1].At - writes[0].At < TimeSpan.FromSeconds(2), $"{writes[1].At - writes[0].At}");
        Assert.True(writes[2].At - writes[1].At < TimeSpan.FromSeconds(2), $"{writes[2].At - writes[1].At}");
    }

    [Fact]
    public async Task A_429_with_retry_after_keeps_every_request_out_of_the_window()
    {
        var crm = fixture.Crm.For("limited");
        crm.Script = (request, n) => request.IsWrite && n == 1 ? new CrmFault(Status: 429, RetryAfterSeconds: 1) : null;
        var contact = await fixture.NewContactAsync("limited", "Di", "di@example.com");

        var limitedAt = await Scenario.EventuallyAsync(() => Task.FromResult(Writes(crm, contact.ContactId)), w => w.Count >= 1, "the first write");
        var view = await fixture.WaitForAsync("limited", contact.ContactId, CrmSyncStates.InSync);

        var requests = crm.Requests.Where(r => r.Path.Contains(contact.ContactId, StringComparison.Ordinal)).ToList();
        var first = limitedAt[0].At;
        Assert.All(requests.Where(r => r.At > first), r => Assert.True(r.At - first >= TimeSpan.FromSeconds(1), $"a request {r.At - first} after the 429"));
        Assert.Equal(2, Writes(crm, contact.ContactId).Count);
        Assert.Equal(CrmSyncStates.InSync, view.State);
    }

    [Fact]
    public async Task A_stalled_request_is_cancelled_at_the_step_timeout_and_tried_again()
    {
        var crm = fixture.Crm.For("stall");
        crm.Script = (request, n) => request.IsWrite && n == 1 ? new CrmFault(Delay: TimeSpan.FromSeconds(5)) : null;
        var contact = await fixture.NewContactAsync("stall", "Ed", "ed@example.com");

        await fixture.WaitForAsync("stall", contact.ContactId, CrmSyncStates.InSync);

        var writes = Writes(crm, contact.ContactId);
        Assert.Equal(2, writes.Count);
        await Scenario.EventuallyAsync(() => Task.FromResult(writes[0].Aborted), a => a, "the stalled request cancelled by Kefu");
        Assert.True(writes[1].At - writes[0].At < TimeSpan.FromSeconds(4), "the second attempt did not wait for the stalled one");
    }

    [Fact]
    public async Task A_read_back_that_differs_is_a_failed_attempt_and_the_record_is_pushed_again()
    {
        var crm = fixture.Crm.For("corrupt");
        crm.Script = (request, n) => !request.IsWrite && n == 1 ? new CrmFault(Corrupt: ("email", "ann@exampel.com")) : null;
        var contact = await fixture.NewContactAsync("corrupt", "Fay", "fay@example.com");

        var view = await fixture.WaitForAsync("corrupt", contact.ContactId, CrmSyncStates.InSync);

        Assert.Equal(2, Writes(crm, contact.ContactId).Count);
        Assert.Equal("fay@example.com", (string?)crm.Records["contacts/" + contact.ContactId]["email"]);
        Assert.Null(view.LastError);
    }

    [Fact]
    public async Task Five_edits_while_the_crm_is_slow_end_at_the_fifth_and_no_older_write_follows_a_newer_one()
    {
        var crm = fixture.Crm.For("slow");
        crm.Script = (request, _) => request.IsWrite ? new CrmFault(Delay: TimeSpan.FromMilliseconds(300)) : null;
        var contact = await fixture.NewContactAsync("slow", "v0", "v@example.com");
        for (var v = 1; v <= 5; v++)
        {
            Assert.NotNull((await fixture.UpdateContactAsync("slow", contact.ContactId, new ContactPatch(Name: "v" + v))).Value);
        }

        await fixture.WaitForAsync("slow", contact.ContactId, CrmSyncStates.InSync,
            _ => (string?)crm.Records.GetValueOrDefault("contacts/" + contact.ContactId)?["name"] == "v5");

        var names = Writes(crm, contact.ContactId).Select(w => (string)JsonNode.Parse(w.Body)!["name"]!).ToList();
        Assert.Equal("v5", names[^1]);
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), names); // never an older version after a newer one
        Assert.True(names.Count < 6, $"the edits should coalesce, yet {names.Count} writes: {string.Join(",", names)}");
    }

    [Fact]
    public async Task A_permanent_400_parks_the_record_as_failed_after_one_attempt_and_a_retry_starts_it_again()
    {
        var crm = fixture.Crm.For("refused");
        var refuse = true;
        crm.Script = (request, _) => request.IsWrite && Volatile.Read(ref refuse) ? new CrmFault(Status: 400) : null;
        var contact = await fixture.NewContactAsync("refused", "Gus", "gus@example.com");

        var failed = await fixture.WaitForAsync("refused", contact.ContactId, CrmSyncStates.Failed);

        Assert.Single(Writes(crm, contact.ContactId));
        Assert.Equal(400, failed.LastHttpStatus);
        var listed = await fixture.Client.GetGrain<ICrmSyncIndexGrain>(CrmFixture.TenantOf("refused")).List(CrmSyncStates.Failed, 50);
        Assert.Contains(listed, v => v.RecordId == contact.ContactId);

        Volatile.Write(ref refuse, false);
        await fixture.Sync("refused", contact.ContactId).Retry();
        await fixture.WaitForAsync("refused", contact.ContactId, CrmSyncStates.InSync);
        Assert.DoesNotContain(await fixture.Client.GetGrain<ICrmSyncIndexGrain>(CrmFixture.TenantOf("refused")).List(null, 50), v => v.RecordId == contact.ContactId);
    }

    [Fact]
    public async Task A_crm_that_keeps_failing_makes_the_record_dead_with_one_crm_sync_failed_event()
    {
        var crm = fixture.Crm.For("down");
        crm.Script = (request, _) => request.IsWrite ? new CrmFault(Status: 500) : null;
        var contact = await fixture.NewContactAsync("down", "Hal", "hal@example.com");

        var dead = await fixture.WaitForAsync("down", contact.ContactId, CrmSyncStates.Dead);

        Assert.Equal(3, dead.Attempts);
        Assert.Equal(3, Writes(crm, contact.ContactId).Count);
        var page = await Scenario.EventuallyAsync(
            () => fixture.EventLog.ReadAsync(CrmFixture.TenantOf("down"), 0, [EventTypes.CrmSyncFailed], 100).AsTask(),
            p => p.Events.Any(e => e.DataJson.Contains(contact.ContactId, StringComparison.Ordinal)), "crm.sync_failed");
        var data = JsonDocument.Parse(Assert.Single(page.Events, e => e.DataJson.Contains(contact.ContactId, StringComparison.Ordinal)).DataJson).RootElement;
        Assert.Equal("down", data.GetProperty("crm").GetString());
        Assert.Equal("contact", data.GetProperty("kind").GetString());
        Assert.Equal(500, data.GetProperty("httpStatus").GetInt32());
        Assert.Equal(3, data.GetProperty("attempts").GetInt32());
    }

    private static List<CrmRequest> Writes(FakeCrm.Tenant crm, string contactId) =>
        [.. crm.WritesSeen.Where(r => r.Path.Contains(contactId, StringComparison.Ordinal)).OrderBy(r => r.At)];
}
