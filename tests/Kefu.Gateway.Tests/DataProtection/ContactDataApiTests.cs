using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kefu.Contracts.Identity;
using Kefu.Gateway.Tests.ContactCentre;
using Kefu.Gateway.Tests.Infrastructure;

namespace Kefu.Gateway.Tests.DataProtection;

/// <summary>
/// A contact's export and erasure over HTTP (issue #20 item 5, docs/data-protection.md), embedded mode: the export holds
/// everything Kefu has about the contact; after the erasure no API returns any of it (contact, conversation, messages,
/// notes, list preview, events, activity timeline, search, export, attachment download), and the audit event remains.
/// </summary>
[Collection(DataProtectionGatewayCollection.Name)]
public sealed class ContactDataApiTests(DataProtectionGatewayFixture gateway)
{
    [Fact]
    public async Task The_export_holds_everything_and_after_the_erasure_no_api_returns_any_of_it()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var c = await CustomerAsync(admin);

        // The export: a zip with the contact, its visitor, its conversation (messages and notes), the file and the events.
        var export = await admin.GetAsync($"/api/v1/contacts/{c.ContactId}/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("application/zip", export.Content.Headers.ContentType?.MediaType);
        var files = await UnzipAsync(export);
        Assert.Contains(c.UserId, files["contact.json"]);
        Assert.Contains("gold-plan", files["contact.json"]);
        Assert.Contains(c.Email, files[$"visitors/{c.VisitorId}.json"]);
        var conversation = files[$"conversations/{c.ConversationId}.json"];
        Assert.Contains(c.MessageText, conversation);
        Assert.Contains(c.NoteText, conversation);
        Assert.Contains(c.CsatComment, conversation);
        Assert.Equal(AttachmentTests.Png, Encoding.Latin1.GetBytes(files[$"attachments/{c.AttachmentId}/{c.FileName}"]));
        Assert.Contains("\"contact.created\"", files["events.json"]);
        Assert.Contains("\"note.created\"", files["events.json"]);
        Assert.Contains(c.MessageText, files["events.json"]);
        Assert.True(files.ContainsKey("flaky-test/note.json"), "every registered holder writes its part");

        // Search finds the conversation by the message's marker before the erasure (the indexer reads the log moments
        // after the commit), so the check after it can fail.
        var search = $"/api/v1/conversations/search?q={Uri.EscapeDataString(c.Secrets[0])}";
        await WaitAsync(async () => (await Desk.Ok(await admin.GetAsync(search))).GetProperty("results").GetArrayLength() > 0);

        // The erasure, done within the request.
        var erased = await admin.DeleteAsync($"/api/v1/contacts/{c.ContactId}");
        Assert.Equal(HttpStatusCode.NoContent, erased.StatusCode);

        var seen = new StringBuilder();
        async Task<HttpStatusCode> Read(string path)
        {
            var response = await admin.GetAsync(path);
            seen.Append(path).Append(' ').AppendLine(await response.Content.ReadAsStringAsync());
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.NotFound, await Read($"/api/v1/contacts/{c.ContactId}"));
        Assert.Equal(HttpStatusCode.NotFound, await Read($"/api/v1/contacts/{c.ContactId}/export"));
        Assert.Equal(HttpStatusCode.NotFound, await Read($"/api/v1/conversations/{c.ConversationId}"));
        Assert.Equal(HttpStatusCode.NotFound, await Read($"/api/v1/conversations/{c.ConversationId}/messages"));
        Assert.Equal(HttpStatusCode.NotFound, await Read($"/api/v1/conversations/{c.ConversationId}/notes"));
        Assert.Equal(HttpStatusCode.NotFound, await Read($"/api/v1/attachments/{c.AttachmentId}"));
        await Read($"/api/v1/conversations/{c.ConversationId}/activity");
        await Read($"/api/v1/visitors/{c.VisitorId}");
        var searched = await Desk.Ok(await admin.GetAsync(search));
        Assert.Empty(searched.GetProperty("results").EnumerateArray());
        seen.AppendLine(searched.GetRawText());
        var found = await Desk.Ok(await admin.GetAsync($"/api/v1/contacts?externalId={Uri.EscapeDataString(c.UserId)}"));
        Assert.Empty(found.GetProperty("contacts").EnumerateArray());

        // The list keeps the conversation's row (counts stay) without its preview or the visitor's name.
        var list = await Desk.Ok(await admin.GetAsync("/api/v1/conversations?limit=200"));
        var row = Assert.Single(list.GetProperty("conversations").EnumerateArray(), r => r.Str("conversationId") == c.ConversationId);
        Assert.Null(row.Str("preview"));
        Assert.Null(row.Str("visitorName"));
        seen.AppendLine(list.GetRawText());

        // The events stay (ids, types, times, cursors) with blanked data; the audit event names no one.
        var events = await AllEventsAsync(admin);
        seen.AppendLine(string.Join('\n', events.Select(e => e.GetRawText())));
        Assert.Contains(events, e => e.Str("type") == "message.created" && e.Str("conversationId") == c.ConversationId);
        var audit = Assert.Single(events, e => e.Str("type") == "contact.erased" && e.GetProperty("data").Str("contactId") == c.ContactId);
        Assert.Equal("admin", audit.GetProperty("causation").Str("id"));
        Assert.True(audit.GetProperty("data").GetProperty("erased").GetProperty("conversations").GetInt64() > 0);
        Assert.Equal(1, audit.GetProperty("data").GetProperty("erased").GetProperty("attachments").GetInt64());

        foreach (var secret in c.Secrets)
        {
            Assert.DoesNotContain(secret, seen.ToString(), StringComparison.Ordinal);
        }

        // Idempotent: asking again answers 204 and writes no second audit event.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/contacts/{c.ContactId}")).StatusCode);
        var status = await Desk.Ok(await admin.GetAsync($"/api/v1/contacts/{c.ContactId}/erasure"));
        Assert.Equal("completed", status.Str("status"));
        Assert.Empty(status.GetProperty("pending").EnumerateArray());
        Assert.Single(await AllEventsAsync(admin), e => e.Str("type") == "contact.erased" && e.GetProperty("data").Str("contactId") == c.ContactId);
    }

    [Fact]
    public async Task An_erasure_a_store_failed_is_running_with_what_is_left_and_completes_when_asked_again()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var c = await CustomerAsync(admin);
        gateway.Flaky.FailFor[c.ContactId] = true;

        var first = await admin.DeleteAsync($"/api/v1/contacts/{c.ContactId}");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal($"/api/v1/contacts/{c.ContactId}/erasure", first.Headers.Location?.OriginalString);
        var running = await Desk.Ok(await admin.GetAsync($"/api/v1/contacts/{c.ContactId}/erasure"));
        Assert.Equal("running", running.Str("status"));
        Assert.Equal(new[] { FlakyHolder.HolderName }, running.GetProperty("pending").EnumerateArray().Select(p => p.GetString()!).ToArray());
        Assert.Equal(1, running.GetProperty("erased").GetProperty("attachments").GetInt64());

        // The other stores were erased all the same; no audit event until every store is done.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/conversations/{c.ConversationId}/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/v1/contacts/{c.ContactId}")).StatusCode);
        Assert.DoesNotContain(await AllEventsAsync(admin), e => e.Str("type") == "contact.erased" && e.GetProperty("data").Str("contactId") == c.ContactId);

        // The store is back: the retry runs only what was left (the finished stores are not asked again) and completes.
        gateway.Flaky.FailFor.TryRemove(c.ContactId, out _);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/contacts/{c.ContactId}")).StatusCode);
        Assert.Equal(2, gateway.Flaky.Erasures[c.ContactId]);
        var done = await Desk.Ok(await admin.GetAsync($"/api/v1/contacts/{c.ContactId}/erasure"));
        Assert.Equal("completed", done.Str("status"));
        Assert.True(done.GetProperty("attempts").GetInt32() >= 2);
        var audit = Assert.Single(await AllEventsAsync(admin), e => e.Str("type") == "contact.erased" && e.GetProperty("data").Str("contactId") == c.ContactId);
        Assert.Equal(1, audit.GetProperty("data").GetProperty("erased").GetProperty(FlakyHolder.HolderName).GetInt64());
    }

    [Fact]
    public async Task Unknown_contacts_are_not_found_and_only_admins_and_keys_with_the_contacts_scope_may_call()
    {
        using var admin = gateway.Http(await gateway.LoginAsync());
        var unknown = Ulid.NewUlid().ToString();
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync($"/api/v1/contacts/{unknown}/export"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync($"/api/v1/contacts/{unknown}"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.GetAsync($"/api/v1/contacts/{unknown}/erasure"), HttpStatusCode.NotFound));
        Assert.Equal("not_found", await Desk.ProblemCode(await admin.DeleteAsync("/api/v1/contacts/not-a-ulid"), HttpStatusCode.NotFound));

        var contactId = await IdentifiedContactAsync(admin, "u-" + Guid.NewGuid().ToString("N"), "Quinn", "quinn@example.com");
        var (_, agentToken) = await gateway.CreateAgentAsync();
        using var agent = gateway.Http(agentToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync($"/api/v1/contacts/{contactId}/export")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.DeleteAsync($"/api/v1/contacts/{contactId}")).StatusCode);

        using var reader = gateway.Http(await KeyAsync(admin, "contacts:read"));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/contacts/{contactId}/export")).StatusCode);
        Assert.Equal("missing_scope", await Desk.ProblemCode(await reader.DeleteAsync($"/api/v1/contacts/{contactId}"), HttpStatusCode.Forbidden));
        using var writer = gateway.Http(await KeyAsync(admin, "contacts:write"));
        Assert.Equal(HttpStatusCode.NoContent, (await writer.DeleteAsync($"/api/v1/contacts/{contactId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/api/v1/contacts/{contactId}/export")).StatusCode);
    }

    private sealed record Customer(
        string ContactId, string VisitorId, string ConversationId, string AttachmentId, string UserId, string Email, string FileName,
        string MessageText, string NoteText, string CsatComment, string[] Secrets);

    /// <summary>
    /// An identified customer with a conversation an agent answered: a message, an agent's reply, an internal note, a
    /// file, a rating with a comment, and a contact attribute. Every personal value carries a unique marker.
    /// </summary>
    private async Task<Customer> CustomerAsync(HttpClient admin)
    {
        var marker = Guid.NewGuid().ToString("N")[..10];
        var userId = "u-" + marker;
        var name = "Zed" + marker;
        var email = $"zed{marker}@example.com";
        var identified = await IdentifyAsync(admin, userId, name, email);
        var contactId = identified.Str("contactId")!;
        var token = identified.Str("token")!;
        await Desk.Ok(await admin.PatchAsJsonAsync($"/api/v1/contacts/{contactId}", new { attributes = new Dictionary<string, string> { ["plan"] = "gold-plan" + marker } }));

        using var visitorHttp = gateway.Http(token);
        var visitorId = (await Desk.Ok(await visitorHttp.GetAsync("/api/v1/visitors/me"))).Str("visitorId")!;
        var messageText = "my card is 4111-" + marker;
        await using var visitor = await gateway.ConnectAsync(token);
        var conversationId = (await visitor.SendMessageAsync(messageText)).Str("conversationId")!;

        var (_, agentToken) = await gateway.CreateAgentAsync();
        await using (var agent = await gateway.ConnectAsync(agentToken))
        {
            await agent.SendAsync(new { type = "join", conversationId });
            await agent.ReceiveUntilAsync("joined");
            await agent.SendMessageAsync("reply about 4111-" + marker, conversationId);
        }

        using var agentHttp = gateway.Http(agentToken);
        var noteText = "angry customer " + marker;
        await Desk.Ok(await agentHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/notes", new { text = noteText }));
        var fileName = $"passport-{marker}.png";
        var attachmentId = (await Desk.Ok(await AttachmentTests.UploadAsync(visitorHttp, conversationId, AttachmentTests.Png, "image/png", fileName))).Str("attachmentId")!;
        await Desk.Ok(await agentHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/status", new { status = "resolved" }));
        var csatComment = "rude " + marker;
        await Desk.Ok(await visitorHttp.PostAsJsonAsync($"/api/v1/conversations/{conversationId}/csat", new { rating = 2, comment = csatComment }));

        // The list shows the preview before the erasure (so the check after it can fail).
        await WaitAsync(async () =>
        {
            var list = await Desk.Ok(await admin.GetAsync("/api/v1/conversations?limit=200"));
            return list.GetProperty("conversations").EnumerateArray().Any(r => r.Str("conversationId") == conversationId && r.Str("preview") is not null);
        });

        return new Customer(contactId, visitorId, conversationId, attachmentId, userId, email, fileName, messageText, noteText, csatComment,
            [marker]);
    }

    private async Task<string> IdentifiedContactAsync(HttpClient admin, string userId, string name, string email) =>
        (await IdentifyAsync(admin, userId, name, email)).Str("contactId")!;

    private async Task<JsonElement> IdentifyAsync(HttpClient admin, string userId, string name, string email)
    {
        var inboxes = await Desk.Ok(await admin.GetAsync("/api/v1/inboxes"));
        var secret = inboxes.GetProperty("inboxes").EnumerateArray().Single(i => i.Str("inboxId") == "default").Str("identitySecret")!;
        using var anonymous = gateway.Http();
        return await Desk.Ok(await anonymous.PostAsJsonAsync("/api/v1/visitors",
            new { name, email, userId, userHash = VisitorIdentity.Hash(secret, userId) }));
    }

    private static async Task<string> KeyAsync(HttpClient admin, string scope) =>
        (await Desk.Ok(await admin.PostAsJsonAsync("/api/v1/api-keys", new { name = "dp-" + scope, scopes = new[] { scope } }))).Str("key")!;

    /// <summary>Every event of the tenant the events API returns, notes included.</summary>
    private static async Task<List<JsonElement>> AllEventsAsync(HttpClient admin)
    {
        var all = new List<JsonElement>();
        var types = string.Join(',', Kefu.Contracts.Events.EventTypes.All);
        var after = string.Empty;
        while (true)
        {
            var page = await Desk.Ok(await admin.GetAsync($"/api/v1/events?types={types}&limit=500{(after.Length > 0 ? "&after=" + after : string.Empty)}"));
            var events = page.GetProperty("events").EnumerateArray().ToList();
            all.AddRange(events);
            if (events.Count < 500)
            {
                return all;
            }

            after = page.Str("next")!;
        }
    }

    private static async Task<Dictionary<string, string>> UnzipAsync(HttpResponseMessage response)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var content = entry.Open();
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy);
            var data = copy.ToArray();
            files[entry.FullName] = entry.FullName.EndsWith(".json", StringComparison.Ordinal) ? Encoding.UTF8.GetString(data) : Encoding.Latin1.GetString(data);
        }

        return files;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 15 s.");
            await Task.Delay(50);
        }
    }
}
