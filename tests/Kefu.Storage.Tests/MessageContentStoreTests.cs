using System.Text;
using Kefu.Contracts.Messages;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Kefu.Storage.Tests;

/// <summary>Typed message content in kefu_message (deploy/mysql/007-message-content.sql): round trip, and rows from before it.</summary>
public sealed class MessageContentStoreTests : IAsyncLifetime
{
    private const string Tenant = "acme";
    private const string AttachmentId = "01M8DHP3E3B0RHC0CGQ5V0TJ2B";

    private readonly MariaDbDatabase _db = new();
    private MySqlMessageStore? _store;

    private MySqlMessageStore Store => _store ??= new MySqlMessageStore(
        Options.Create(new MySqlMessageStoreOptions { ConnectionString = _db.ConnectionString }), NullLogger<MySqlMessageStore>.Instance);

    public Task InitializeAsync() => _db.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Attachment_and_text_content_round_trip()
    {
        var conversation = Ulid.NewUlid().ToString();
        var written = new[]
        {
            Message(conversation, 1, "hello", null),
            Message(conversation, 2, "屏幕截图 2026.png", new AttachmentContent(AttachmentId, "image/png", "屏幕截图 2026.png", 4211)),
            Message(conversation, 3, "invoice.pdf", new AttachmentContent(Ulid.NewUlid().ToString(), "application/pdf", "invoice.pdf", 10_485_760)),
            // A text that happens to have the legacy form, sent as text: it stays text (only rows from before typed content are read by their form).
            Message(conversation, 4, $"[attachment:{AttachmentId}:image/png] x.png", null),
        };
        foreach (var message in written)
        {
            await Store.AppendAsync(Tenant, message);
        }

        Assert.Equal(written, await Store.ReadAfterAsync(Tenant, conversation, 0, 10));
        Assert.Equal(written[2..], await Store.ReadLatestAsync(Tenant, conversation, 2));
        Assert.Equal(written[1].Content, (await Store.ReadAfterAsync(Tenant, conversation, 1, 1))[0].Content);
    }

    [Fact]
    public async Task A_duplicate_clientMsgId_answers_with_the_original_and_its_content()
    {
        var conversation = Ulid.NewUlid().ToString();
        var original = Message(conversation, 1, "a.png", new AttachmentContent(AttachmentId, "image/png", "a.png", 12), "same");
        await Store.AppendAsync(Tenant, original);

        var duplicate = await Assert.ThrowsAsync<DuplicateClientMessageException>(async () =>
            await Store.AppendAsync(Tenant, Message(conversation, 2, "again", null, "same")));

        Assert.Equal(original, duplicate.Existing);
    }

    [Fact]
    public async Task Rows_written_before_typed_content_read_as_text_or_by_the_legacy_attachment_form()
    {
        var conversation = Ulid.NewUlid().ToString();
        // What a silo before 007 wrote: no content columns (NULL once the script added them).
        await InsertOldRowAsync(conversation, 1, "Hello, where is my order?");
        await InsertOldRowAsync(conversation, 2, $"[attachment:{AttachmentId}:image/png] screen shot.png");
        await InsertOldRowAsync(conversation, 3, $"see [attachment:{AttachmentId}:image/png] screen shot.png");
        await InsertOldRowAsync(conversation, 4, $"[attachment:{AttachmentId}:image/png] two\nlines.png");

        var read = await Store.ReadAfterAsync(Tenant, conversation, 0, 10);

        Assert.Equal("Hello, where is my order?", read[0].Text);
        Assert.Null(read[0].Content);
        Assert.Equal(ContentKinds.Text, read[0].Kind);
        Assert.Equal("screen shot.png", read[1].Text);
        Assert.Equal(new AttachmentContent(AttachmentId, "image/png", "screen shot.png", 0), read[1].Content);
        Assert.Null(read[2].Content);
        Assert.Null(read[3].Content);
        Assert.Equal(read, await Store.ReadLatestAsync(Tenant, conversation, 4));
    }

    [Fact]
    public async Task A_content_kind_from_a_newer_version_reads_as_its_text()
    {
        var conversation = Ulid.NewUlid().ToString();
        await InsertOldRowAsync(conversation, 1, "Choose a plan", contentKind: 9, content: """{"title":"plans"}""");

        var read = Assert.Single(await Store.ReadAfterAsync(Tenant, conversation, 0, 10));

        Assert.Equal("Choose a plan", read.Text);
        Assert.Null(read.Content);
    }

    private static ChatMessage Message(string conversation, long seq, string text, MessageContent? content, string? clientMsgId = null)
    {
        var now = DateTimeOffset.UtcNow;
        now = now.AddTicks(-(now.UtcTicks % 10));
        return new ChatMessage(conversation, Ulid.NewUlid(now), seq, new Sender(ParticipantRole.Visitor, "v-01", "Ann"), text, now,
            clientMsgId ?? $"c-{Guid.NewGuid():N}", content);
    }

    private async Task InsertOldRowAsync(string conversation, long seq, string text, byte? contentKind = null, string? content = null)
    {
        await using var connection = new MySqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        var columns = contentKind is null ? string.Empty : ", content_kind, content";
        var values = contentKind is null ? string.Empty : ", @kind, @content";
        await using var insert = new MySqlCommand(
            "INSERT INTO kefu_message (tenant, conversation_id, seq, message_id, sender_role, sender_id, sender_name, client_msg_id, " +
            $"created_at, body_codec, body_size, body{columns}) VALUES (@tenant, @conversation, @seq, @id, 0, 'v-01', 'Ann', NULL, UTC_TIMESTAMP(6), 0, @size, @body{values})",
            connection);
        var body = Encoding.UTF8.GetBytes(text);
        insert.Parameters.AddWithValue("@tenant", Tenant);
        insert.Parameters.AddWithValue("@conversation", Ulid.Parse(conversation).ToByteArray());
        insert.Parameters.AddWithValue("@seq", seq);
        insert.Parameters.AddWithValue("@id", Ulid.NewUlid().ToByteArray());
        insert.Parameters.AddWithValue("@size", body.Length);
        insert.Parameters.AddWithValue("@body", body);
        insert.Parameters.AddWithValue("@kind", contentKind);
        insert.Parameters.AddWithValue("@content", content is null ? null : Encoding.UTF8.GetBytes(content));
        await insert.ExecuteNonQueryAsync();
    }
}
