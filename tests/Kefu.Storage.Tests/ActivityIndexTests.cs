using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;
using Kefu.Grains.Activity;
using Kefu.Grains.Events;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests;

/// <summary>
/// The activity timeline's read on MariaDB (deploy/mysql/012-activity-index.sql): one conversation's items through the
/// generated column's index, tenant-level events found by the conversation id in their data, messages and notes never.
/// </summary>
public sealed class ActivityIndexTests : IAsyncLifetime
{
    private const string Tenant = "acme";

    private readonly MessageStoreDatabase _db = new();

    public Task InitializeAsync() => _db.InitializeAsync();

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task A_conversations_items_come_from_the_index_in_cursor_order_without_its_messages()
    {
        var log = Log();
        var conversation = Ulid.NewUlid().ToString();
        var other = Ulid.NewUlid().ToString();
        var store = _db.Store();
        var messages = Enumerable.Range(1, 250).Select(i => Message(conversation, i)).ToList();
        foreach (var m in messages)
        {
            await store.AppendAsync(Tenant, m, [Event(conversation, m.Seq, new MessageCreated(m))]);
        }

        var now = DateTimeOffset.UtcNow;
        await log.AppendAsync(
        [
            Event(conversation, 251, new ConversationStatusChanged("queued", "open", Summary(conversation))),
            Event(conversation, 252, new NoteCreated(new InternalNote("n-1", conversation, new Sender(ParticipantRole.Agent, "ann", "Ann"), "@bo look", now))),
            Event(null, 0, new RouteExecuted("t-1", EventTypes.ConversationUpdated, "h", "vip", RouteOutcomes.Succeeded, [], 3, 97, conversation)),
            Event(null, 0, new CrmSyncFailed("sales", "conversation", conversation, 4, "HTTP 502", 502, now)),
            Event(null, 0, new CrmSyncFailed("sales", "contact", conversation, 4, "a contact, not the conversation", 502, now)),
            Event(other, 1, new ConversationStatusChanged("queued", "open", Summary(other))),
            Event(conversation, 253, new ConversationStatusChanged("open", "resolved", Summary(conversation))),
        ]);

        // An email result from another part of the product: only its data names the conversation.
        long mailCursor;
        await using (var connection = await _db.OpenAsync())
        {
            await using var insert = new MySqlCommand(
                "INSERT INTO kefu_event_counter (tenant, last) VALUES (@t, 1) ON DUPLICATE KEY UPDATE last = LAST_INSERT_ID(last + 1);" +
                "INSERT INTO kefu_event (tenant, cursor_no, event_id, type, conversation_id, seq, created_at, causation_kind, causation_id, data) " +
                "VALUES (@t, LAST_INSERT_ID(), @id, 'email.sent', NULL, 0, UTC_TIMESTAMP(6), 'system', 'mail', @data);" +
                "SELECT last FROM kefu_event_counter WHERE tenant = @t", connection);
            insert.Parameters.AddWithValue("@t", Tenant);
            insert.Parameters.AddWithValue("@id", Ulid.NewUlid().ToByteArray());
            insert.Parameters.AddWithValue("@data", $$"""{"conversationId":"{{conversation}}","mailId":"m-1","kind":"transcript","to":"eve@example.com","subject":"Your chat"}""");
            mailCursor = Convert.ToInt64(await insert.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        var page = await log.ReadConversationAsync(Tenant, conversation, 0, ActivityTypes.All, 100);
        Assert.Equal(
            [EventTypes.ConversationStatusChanged, EventTypes.RouteExecuted, EventTypes.CrmSyncFailed, EventTypes.ConversationStatusChanged, ActivityTypes.EmailSent],
            page.Events.Select(e => e.Type));
        Assert.Equal(page.Events.Select(e => e.Cursor).Order(), page.Events.Select(e => e.Cursor));
        Assert.Equal(mailCursor, page.Events[^1].Cursor);
        Assert.Equal(mailCursor, page.Next);
        Assert.Contains("\"routeId\":\"vip\"", page.Events[1].DataJson, StringComparison.Ordinal);

        // Paged with after; a limit of 2 reads two rows of the index, whatever the conversation's length.
        var first = await log.ReadConversationAsync(Tenant, conversation, 0, ActivityTypes.All, 2);
        Assert.Equal(page.Events.Take(2).Select(e => e.Cursor), first.Events.Select(e => e.Cursor));
        var rest = await log.ReadConversationAsync(Tenant, conversation, first.Next, ActivityTypes.All, 100);
        Assert.Equal(page.Events.Skip(2).Select(e => e.Cursor), rest.Events.Select(e => e.Cursor));
        Assert.Empty((await log.ReadConversationAsync(Tenant, conversation, page.Next, ActivityTypes.All, 100)).Events);
        Assert.Single((await log.ReadConversationAsync(Tenant, other, 0, ActivityTypes.All, 100)).Events);
        Assert.Empty((await log.ReadConversationAsync("another-tenant", conversation, 0, ActivityTypes.All, 100)).Events);

        // The index holds the conversation's 5 timeline rows, not its 250 messages or its note.
        await using (var connection = await _db.OpenAsync())
        {
            await using var count = new MySqlCommand(
                "SELECT COUNT(*) FROM kefu_event FORCE INDEX (ix_kefu_event_activity) WHERE tenant = @t AND activity_conversation = @c", connection);
            count.Parameters.AddWithValue("@t", Tenant);
            count.Parameters.AddWithValue("@c", conversation);
            Assert.Equal(5L, Convert.ToInt64(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));

            await using var explain = new MySqlCommand(
                "EXPLAIN SELECT cursor_no FROM kefu_event WHERE tenant = @t AND activity_conversation = @c AND cursor_no > 0 ORDER BY cursor_no LIMIT 2", connection);
            explain.Parameters.AddWithValue("@t", Tenant);
            explain.Parameters.AddWithValue("@c", conversation);
            await using var reader = await explain.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("ix_kefu_event_activity", reader.GetString(reader.GetOrdinal("key")));
        }
    }

    private MySqlEventLog Log() =>
        new(Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }), Options.Create(new EventLogOptions()),
            TimeProvider.System, NullLogger<MySqlEventLog>.Instance);

    private static DateTimeOffset Micros(DateTimeOffset value) => value.AddTicks(-(value.UtcTicks % 10));

    private static ChatMessage Message(string conversation, long seq) =>
        new(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v-1", "Visitor"), $"m{seq}", Micros(DateTimeOffset.UtcNow), null);

    private static DomainEvent Event(string? conversation, long seq, EventData data) =>
        new(Ulid.NewUlid(), Tenant, conversation, seq, Micros(DateTimeOffset.UtcNow), Causation.Of("test"), data);

    private static ConversationSummary Summary(string conversation) =>
        new(conversation, Tenant, "default", "v-1", null, ConversationStatus.Open, null, 1, DateTimeOffset.UtcNow, []);
}
