using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kefu.Storage.Tests.DataProtection;

/// <summary>
/// A contact's erasure on MariaDB (docs/data-protection.md): the message store deletes a conversation's rows, the
/// directory blanks a row's personal columns, the outbox finds the events about a contact and blanks them — each
/// idempotent, each leaving other conversations and contacts alone.
/// </summary>
public sealed class ErasureStorageTests : IAsyncLifetime
{
    private const string Tenant = "acme";

    private readonly MessageStoreDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task Deleting_a_conversations_messages_removes_all_of_them_once_and_no_other_conversations()
    {
        var store = _db.Store();
        var erased = Ulid.NewUlid().ToString();
        var kept = Ulid.NewUlid().ToString();
        for (var seq = 1; seq <= 1203; seq++) // more than one delete chunk
        {
            await store.AppendAsync(Tenant, Message(erased, seq, "secret " + seq));
        }

        await store.AppendAsync(Tenant, Message(kept, 1, "kept"));
        await store.AppendAsync("other", Message(erased, 1, "another tenant's"));

        Assert.Equal(1203, await store.DeleteConversationAsync(Tenant, erased));
        Assert.Empty(await store.ReadAfterAsync(Tenant, erased, 0, 10));
        Assert.Empty(await store.ReadLatestAsync(Tenant, erased, 10));
        Assert.Equal(0, await store.DeleteConversationAsync(Tenant, erased));
        Assert.Equal("kept", Assert.Single(await store.ReadAfterAsync(Tenant, kept, 0, 10)).Text);
        Assert.Single(await store.ReadAfterAsync("other", erased, 0, 10));
    }

    [Fact]
    public async Task Erasing_a_directory_row_blanks_name_preview_and_comment_and_keeps_the_rest()
    {
        var directory = new MySqlConversationDirectory(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }));
        var id = Ulid.NewUlid().ToString();
        var other = Ulid.NewUlid().ToString();
        var now = DateTimeOffset.UtcNow;
        var summary = new ConversationSummary(id, Tenant, "sales", "v1", "Ann Secret", ConversationStatus.Resolved, "bob", 9, now, ["bob"],
            Csat: new CsatRating(2, "rude agent", now), Preview: "my card is 4111");
        await directory.UpsertAsync(summary);
        await directory.UpsertAsync(summary with { ConversationId = other });

        Assert.True(await directory.ErasePersonalAsync(Tenant, id));
        Assert.False(await directory.ErasePersonalAsync(Tenant, id));
        var rows = await directory.ListAsync(Tenant, new ConversationQuery("anyone", true, null, 10));
        var row = Assert.Single(rows, r => r.ConversationId == id);
        Assert.Null(row.VisitorName);
        Assert.Null(row.Preview);
        Assert.Null(row.Csat?.Comment);
        Assert.Equal((ConversationStatus.Resolved, "bob", 9L, 2), (row.Status, row.AssigneeId, row.LastSeq, row.Csat?.Rating ?? 0));
        var untouched = Assert.Single(rows, r => r.ConversationId == other);
        Assert.Equal(("Ann Secret", "my card is 4111", "rude agent"), (untouched.VisitorName, untouched.Preview, untouched.Csat?.Comment));
    }

    [Fact]
    public async Task The_events_about_a_contact_are_found_and_blanked_once_keeping_ids_types_and_cursors()
    {
        var store = _db.Store();
        var log = new MySqlEventLog(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }),
            Options.Create(new EventLogOptions()), TimeProvider.System, NullLogger<MySqlEventLog>.Instance);
        var conversation = Ulid.NewUlid().ToString();
        var other = Ulid.NewUlid().ToString();
        var now = DateTimeOffset.UtcNow;
        var visitor = new Causation(Causation.Visitor, "v1", "Ann Secret");
        var message = Message(conversation, 1, "my card is 4111");
        await store.AppendAsync(Tenant, message, [new DomainEvent(Ulid.NewUlid(), Tenant, conversation, 1, now, visitor, new MessageCreated(message))]);
        var summary = new ConversationSummary(conversation, Tenant, "sales", "v1", "Ann Secret", ConversationStatus.Open, null, 1, now, []);
        var about = new List<DomainEvent>
        {
            new(Ulid.NewUlid(), Tenant, conversation, 2, now, visitor, new ConversationCreated(summary)),
            new(Ulid.NewUlid(), Tenant, conversation, 3, now, Causation.Of("agent"),
                new NoteCreated(new InternalNote("n1", conversation, new Sender(ParticipantRole.Agent, "bob", "Bob"), "angry customer", now))),
            new(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("crm"),
                new ContactChanged(true, "c1", "ext-secret", "Ann Secret", "ann@example.com", new() { ["plan"] = "gold" })),
            new(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("mail"), new EmailSent(conversation, "m1", "transcript", "ann@example.com", "Your chat about 4111")),
            new(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("inbound"),
                new InboundReceived("erp-1", "order_status", "c1", "ext-secret", """{"address":"1 Secret Road"}""")),
        };
        var unrelated = new List<DomainEvent>
        {
            new(Ulid.NewUlid(), Tenant, other, 1, now, visitor, new ConversationCreated(summary with { ConversationId = other })),
            new(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("crm"), new ContactChanged(true, "c2", "ext-2", "Ann Secret", null, [])),
        };
        await log.AppendAsync([.. about, .. unrelated]);

        var before = await ReadAboutAsync(log, conversation);
        Assert.Equal(1 + about.Count, before.Count);
        Assert.Contains(before, e => e.DataJson.Contains("my card is 4111", StringComparison.Ordinal)); // read from the message row

        // The erasure deletes the message row first, then blanks the events.
        await store.DeleteConversationAsync(Tenant, conversation);
        Assert.Equal(about.Count + 1, await log.EraseAboutAsync(Tenant, "c1", [conversation], CancellationToken.None)); // and the message event's causation name
        Assert.Equal(0, await log.EraseAboutAsync(Tenant, "c1", [conversation], CancellationToken.None));

        var after = await ReadAboutAsync(log, conversation);
        Assert.Equal(before.Select(e => (e.Cursor, e.Id, e.Type, e.Seq, e.Time)), after.Select(e => (e.Cursor, e.Id, e.Type, e.Seq, e.Time)));
        var text = string.Join('\n', after.Select(e => e.DataJson + e.Causation.Name));
        foreach (var secret in (string[])["Ann Secret", "4111", "angry", "ext-secret", "ann@example.com", "Secret Road", "gold"])
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(after[0].DataJson).RootElement.GetProperty("message").ValueKind);

        // Events about someone else keep their data; the tenant's page still reads every event.
        var all = (await log.ReadAsync(Tenant, 0, EventTypes.All, 100)).Events;
        Assert.Equal(1 + about.Count + unrelated.Count, all.Length);
        Assert.Equal(2, all.Count(e => e.DataJson.Contains("Ann Secret", StringComparison.Ordinal)));
    }

    private static async Task<List<StoredEvent>> ReadAboutAsync(MySqlEventLog log, string conversation)
    {
        var found = new List<StoredEvent>();
        await foreach (var e in log.ReadAboutAsync(Tenant, "c1", [conversation], CancellationToken.None))
        {
            found.Add(e);
        }

        return found;
    }

    private static ChatMessage Message(string conversation, long seq, string text)
    {
        var now = DateTimeOffset.UtcNow;
        return new(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v1", "Ann Secret"), text, now.AddTicks(-(now.UtcTicks % 10)), "c" + seq);
    }
}
