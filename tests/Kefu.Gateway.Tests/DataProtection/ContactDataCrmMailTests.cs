using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;
using Kefu.Grains.Crm;
using Kefu.Grains.Email;
using Kefu.Grains.Tests.Crm;
using Microsoft.Extensions.DependencyInjection;

namespace Kefu.Gateway.Tests.DataProtection;

/// <summary>
/// A contact's export and erasure reach its CRM sync records and its mail (docs/data-protection.md): the export holds
/// them; after the erasure the sync records hold no confirmed values and never sync again (a pending upsert, a retry, a
/// trigger behind the erasure), the CRM's own record is left alone, and a mail queued for the contact is deleted and
/// never goes out, while the CRM and the SMTP server keep serving everyone else.
/// </summary>
[Collection(DataProtectionGatewayCollection.Name)]
public sealed class ContactDataCrmMailTests(DataProtectionGatewayFixture gateway)
{
    private const string Tenant = "default";
    private const string Crm = DataProtectionGatewayFixture.CrmName;

    private IGrainFactory Grains => gateway.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task The_export_holds_the_crm_records_and_mail_and_after_the_erasure_nothing_is_kept_synced_or_sent()
    {
        var crm = gateway.Crm.For(Crm);
        using var admin = gateway.Http(await gateway.LoginAsync());
        var marker = Guid.NewGuid().ToString("N")[..10];
        var email = $"mia{marker}@example.com";
        var identified = await IdentifyAsync(admin, "u-" + marker, "Mia" + marker, email);
        var contactId = identified.Str("contactId")!;

        // The visitor writes and goes away.
        string conversationId;
        await using (var visitor = await gateway.ConnectAsync(identified.Str("token")!))
        {
            conversationId = (await visitor.SendMessageAsync("parcel " + marker + " is late")).Str("conversationId")!;
        }

        // The contact reaches the CRM: its sync record holds the values the CRM confirmed.
        var contactKey = CrmSyncKeys.Of(Tenant, Crm, CrmRecordKinds.Contact, contactId);
        var contactRecord = Grains.GetGrain<ICrmSyncRecordData>(contactKey);
        await WaitAsync(async () => (await contactRecord.Export())?.ConfirmedFields?.GetValueOrDefault("email") == email, "the contact in sync");

        var mailId = string.Empty;
        var erasedAt = DateTimeOffset.MaxValue;
        var conversationRecord = Grains.GetGrain<ICrmSyncRecordData>(CrmSyncKeys.Of(Tenant, Crm, CrmRecordKinds.Conversation, conversationId));
        var sync = Grains.GetGrain<ICrmSyncGrain>(contactKey);
        var thread = Grains.GetGrain<IMailThreadRecords>(Tenancy.Key(Tenant, conversationId));
        await gateway.Sink.StopAsync();
        try
        {
            // The SMTP server is down: the agent's reply becomes an offline reply that waits, retried, in its mail grain.
            var (_, agentToken) = await gateway.CreateAgentAsync();
            await using (var agent = await gateway.ConnectAsync(agentToken))
            {
                await agent.SendAsync(new { type = "join", conversationId });
                await agent.ReceiveUntilAsync("joined", f => f.Str("conversationId") == conversationId);
                await agent.SendMessageAsync("we ship " + marker + " today", conversationId);
            }

            OutboundMailRecord? queued = null;
            await WaitAsync(async () =>
            {
                foreach (var id in await thread.ListMails())
                {
                    queued = await Grains.GetGrain<IOutboundMailControl>(MailIds.Key(Tenant, id)).Read() is { View: { State: MailStates.Pending, Attempts: > 0 } } r ? r : queued;
                }

                return queued is not null;
            }, "the offline reply queued and retried");
            Assert.Equal(email, queued!.Mail.To);
            mailId = queued.View.MailId;

            // Resolved: the conversation, with its transcript, reaches the CRM too.
            using var agentHttp = gateway.Http(agentToken);
            await Desk.Ok(await agentHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
            await WaitAsync(async () => (await conversationRecord.Export())?.ConfirmedFields?.GetValueOrDefault("transcript")?.Contains(marker, StringComparison.Ordinal) == true,
                "the conversation in sync");

            // A new name the CRM refuses for now: an upsert with the contact's fields pending, retried on a backoff.
            crm.Script = (request, _) => request.IsWrite && request.Path.Contains(contactId, StringComparison.Ordinal) ? new CrmFault(Status: 503) : null;
            await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}", new { name = "Renamed" + marker }));
            await WaitAsync(async () => await sync.Get() is { State: CrmSyncStates.Pending, Attempts: > 0 }, "the renamed contact's upsert retried");

            // The export holds the sync records and the mail.
            var files = await UnzipAsync(await admin.GetAsync($"/api/v1/contacts/{contactId}/export"));
            Assert.Contains(email, files[$"crm/{Crm}/contact/{contactId}.json"], StringComparison.Ordinal);
            Assert.Contains("parcel " + marker, files[$"crm/{Crm}/conversation/{conversationId}.json"], StringComparison.Ordinal);
            var mail = files[$"mail/{mailId}.json"];
            Assert.Contains(email, mail, StringComparison.Ordinal);
            Assert.Contains("we ship " + marker + " today", mail, StringComparison.Ordinal);

            // The erasure, done within the request, counts what it forgot.
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/contacts/{contactId}")).StatusCode);
            erasedAt = DateTimeOffset.UtcNow;
            var erased = (await Desk.Ok(await admin.GetAsync($"/api/v1/contacts/{contactId}/erasure"))).GetProperty("erased");
            Assert.True(erased.GetProperty("crm").GetInt64() >= 2, erased.GetRawText());
            Assert.True(erased.GetProperty("mail").GetInt64() >= 1, erased.GetRawText());

            // The sync records hold nothing and stay so: a retry, a trigger behind the erasure, the reminder find nothing to sync.
            Assert.Null(await contactRecord.Export());
            Assert.Null(await conversationRecord.Export());
            Assert.Null(await sync.Get());
            Assert.Null(await sync.Retry());
            await sync.Touch(long.MaxValue);
            Assert.Null(await sync.Get());
            Assert.Null(await contactRecord.Export());
            var listed = await Desk.Ok(await admin.GetAsync("/api/v1/crm/sync?limit=500"));
            Assert.DoesNotContain(listed.GetProperty("records").EnumerateArray(), r => r.Str("recordId") is { } id && (id == contactId || id == conversationId));

            // The mail is gone (address, subject, bodies), and a replayed cause makes no new one.
            var stored = Grains.GetGrain<IOutboundMailControl>(MailIds.Key(Tenant, mailId));
            Assert.Null(await stored.Read());
            Assert.Null(await stored.Get());
            Assert.Equal(MailStates.Erased, (await stored.Enqueue(queued.Mail)).State);
            Assert.Null(await stored.Read());
            Assert.False(await thread.Track(Ulid.NewUlid().ToString()));
        }
        finally
        {
            crm.Script = null;
            gateway.Sink.Resume();
        }

        var resumedAt = DateTimeOffset.UtcNow;

        // The CRM and the SMTP server serve everyone else: a new contact syncs and gets its transcript by mail.
        var otherEmail = $"ned{marker}@example.com";
        var other = await IdentifyAsync(admin, "u2-" + marker, "Ned" + marker, otherEmail);
        string otherConversation;
        await using (var visitor = await gateway.ConnectAsync(other.Str("token")!))
        {
            otherConversation = (await visitor.SendMessageAsync("hello " + marker)).Str("conversationId")!;
        }

        using (var otherHttp = gateway.Http(other.Str("token")!))
        {
            Assert.Equal(HttpStatusCode.Accepted, (await otherHttp.PostAsJsonAsync($"/api/v1/conversations/{otherConversation}/transcript", new { })).StatusCode);
        }

        // Both have gone out, and more than the longest retry wait (CRM 200 ms, mail 300 ms) has passed since the
        // servers came back: an upsert or a mail still queued for the erased contact would have been sent by now.
        await WaitAsync(
            () => Task.FromResult(crm.Records.ContainsKey("contacts/" + other.Str("contactId")) && gateway.Sink.To(otherEmail).Any()
                                  && DateTimeOffset.UtcNow - resumedAt > TimeSpan.FromSeconds(1)),
            "the other contact synced and mailed");
        Assert.Empty(gateway.Sink.To(email));
        Assert.DoesNotContain(crm.Requests, r => r.IsWrite && r.At > erasedAt
                                                 && (r.Path.Contains(contactId, StringComparison.Ordinal) || r.Path.Contains(conversationId, StringComparison.Ordinal)));

        // Kefu told the CRM nothing: its record (the business's system of record) is as it was.
        Assert.Equal("Mia" + marker, (string?)crm.Records["contacts/" + contactId]["name"]);
        Assert.Equal(email, (string?)crm.Records["contacts/" + contactId]["email"]);
    }

    private async Task<JsonElement> IdentifyAsync(HttpClient admin, string userId, string name, string email)
    {
        var inboxes = await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"));
        var secret = inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == "default").Str("identitySecret")!;
        using var anonymous = gateway.Http();
        return await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors",
            new { name, email, userId, userHash = VisitorIdentity.Hash(secret, userId) }));
    }

    private static async Task<Dictionary<string, string>> UnzipAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var reader = new StreamReader(entry.Open(), Encoding.UTF8);
            files[entry.FullName] = await reader.ReadToEndAsync();
        }

        return files;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
