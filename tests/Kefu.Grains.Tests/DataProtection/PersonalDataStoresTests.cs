using System.Text.Json;
using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Attachments;
using Kefu.Grains.DataProtection;
using Kefu.Grains.Directory;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Tests.DataProtection;

/// <summary>
/// The embedded stores' side of a contact's erasure (docs/data-protection.md), without a cluster: which fields are
/// blanked, the in-memory outbox finding and blanking the events about a contact, the message store and directory
/// deletes, and safe file names in the export.
/// </summary>
public sealed class PersonalDataStoresTests
{
    private const string Tenant = "acme";

    [Fact]
    public void Blanking_empties_personal_strings_and_free_form_objects_and_keeps_ids_statuses_and_numbers()
    {
        var json = """
            {"from":"open","to":"resolved","conversation":{"id":"c1","visitorId":"v1","visitorName":"Ann","lastSeq":4,
             "csat":{"rating":2,"comment":"rude"}},"message":{"text":"hi","sender":{"role":"visitor","id":"v1","name":"Ann"},
             "content":{"kind":"attachment","attachmentId":"a1","name":"passport.png","size":5}},
             "contact":{"id":"k1","externalId":"u-42","email":"ann@example.com","attributes":{"plan":"gold"}},
             "data":{"address":"1 Road"},"mail":{"to":"ann@example.com","subject":"About your order"},"tags":["vip"]}
            """;
        var blanked = PersonalFields.Blank(json);
        var root = JsonDocument.Parse(blanked).RootElement;

        Assert.Equal(("open", "resolved"), (root.GetProperty("from").GetString(), root.GetProperty("to").GetString()));
        var conversation = root.GetProperty("conversation");
        Assert.Equal(("c1", "v1", "", 4), (conversation.GetProperty("id").GetString(), conversation.GetProperty("visitorId").GetString(),
            conversation.GetProperty("visitorName").GetString(), conversation.GetProperty("lastSeq").GetInt32()));
        Assert.Equal((2, ""), (conversation.GetProperty("csat").GetProperty("rating").GetInt32(), conversation.GetProperty("csat").GetProperty("comment").GetString()));
        foreach (var secret in (string[])["Ann", "rude", "hi\"", "passport", "u-42", "ann@example.com", "gold", "1 Road", "About your order"])
        {
            Assert.DoesNotContain(secret, blanked, StringComparison.Ordinal);
        }

        Assert.Contains("\"attachmentId\":\"a1\"", blanked, StringComparison.Ordinal);
        Assert.Contains("\"vip\"", blanked, StringComparison.Ordinal); // tags are the business's labels, not the customer's
        Assert.Equal(blanked, PersonalFields.Blank(blanked));
    }

    [Fact]
    public async Task The_in_memory_outbox_blanks_the_events_about_a_contact_once_and_keeps_the_rest()
    {
        var log = new InMemoryEventLog(Options.Create(new EventLogOptions()), TimeProvider.System);
        var now = DateTimeOffset.UtcNow;
        var conversation = Ulid.NewUlid().ToString();
        var other = Ulid.NewUlid().ToString();
        var visitor = new Causation(Causation.Visitor, "v1", "Ann");
        var message = new ChatMessage(conversation, Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v1", "Ann"), "my card is 4111", now, "c1");
        var otherMessage = message with { ConversationId = other, Text = "someone else's" };
        await log.AppendAsync(
        [
            new DomainEvent(Ulid.NewUlid(), Tenant, conversation, 1, now, visitor, new MessageCreated(message)),
            new DomainEvent(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("crm"), new ContactChanged(true, "k1", "u-42", "Ann", null, [])),
            new DomainEvent(Ulid.NewUlid(), Tenant, null, 0, now, Causation.Of("mail"), new EmailSent(conversation, "m1", "transcript", "ann@example.com", "Chat")),
            new DomainEvent(Ulid.NewUlid(), Tenant, other, 1, now, visitor, new MessageCreated(otherMessage)),
        ]);

        Assert.Equal(3, await log.EraseAboutAsync(Tenant, "k1", [conversation], CancellationToken.None));
        Assert.Equal(0, await log.EraseAboutAsync(Tenant, "k1", [conversation], CancellationToken.None));

        var page = await log.ReadAsync(Tenant, 0, EventTypes.All, 10);
        Assert.Equal(new long[] { 1, 2, 3, 4 }, page.Events.Select(e => e.Cursor).ToArray());
        var erased = string.Join('\n', page.Events.Take(3).Select(e => e.DataJson + e.Causation.Name));
        foreach (var secret in (string[])["Ann", "4111", "u-42", "ann@example.com"])
        {
            Assert.DoesNotContain(secret, erased, StringComparison.Ordinal);
        }

        Assert.Contains("someone else's", page.Events[3].DataJson, StringComparison.Ordinal);
        Assert.Equal("Ann", page.Events[3].Causation.Name);
        var about = new List<StoredEvent>();
        await foreach (var e in log.ReadAboutAsync(Tenant, "k1", [conversation], CancellationToken.None))
        {
            about.Add(e);
        }

        Assert.Equal(new[] { EventTypes.MessageCreated, EventTypes.ContactCreated, EventTypes.EmailSent }, about.Select(e => e.Type).ToArray());
    }

    [Fact]
    public async Task The_in_memory_message_store_and_directory_forget_a_conversation_once()
    {
        var store = new InMemoryMessageStore();
        var conversation = Ulid.NewUlid().ToString();
        for (var seq = 1; seq <= 3; seq++)
        {
            await store.AppendAsync(Tenant, new ChatMessage(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v1", "Ann"), "m", DateTimeOffset.UtcNow, null));
        }

        Assert.Equal(3, await store.DeleteConversationAsync(Tenant, conversation));
        Assert.Equal(0, await store.DeleteConversationAsync(Tenant, conversation));
        Assert.Empty(await store.ReadLatestAsync(Tenant, conversation, 10));

        var directory = new InMemoryConversationDirectory();
        var summary = new ConversationSummary(conversation, Tenant, "default", "v1", "Ann", ConversationStatus.Resolved, null, 3, DateTimeOffset.UtcNow, [],
            Csat: new CsatRating(2, "rude", DateTimeOffset.UtcNow), Preview: "m");
        await directory.UpsertAsync(summary);
        Assert.True(await directory.ErasePersonalAsync(Tenant, conversation));
        Assert.False(await directory.ErasePersonalAsync(Tenant, conversation));
        var row = Assert.Single(await directory.ListAsync(Tenant, new Contracts.Grains.ConversationQuery("x", true, null, 10)));
        Assert.Equal((null, null, null, 2, ConversationStatus.Resolved), (row.VisitorName, row.Preview, row.Csat!.Comment, row.Csat.Rating, row.Status));
    }

    [Theory]
    [InlineData("../../etc/passwd", "_.._etc_passwd")]
    [InlineData("..", "file")]
    [InlineData("invoice 2026.pdf", "invoice 2026.pdf")]
    [InlineData("a\\b:c\u0001.png", "a_b_c_.png")]
    public void Export_file_names_are_one_safe_path_segment(string name, string expected) =>
        Assert.Equal(expected, AttachmentsHolder.SafeFileName(name));
}
