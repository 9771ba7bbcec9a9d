using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;

namespace Kefu.Grains.Tests;

/// <summary>MessageContentRules (the stored form of a send's content) and the preview by content kind; no cluster.</summary>
public sealed class MessageContentRulesTests
{
    private const string Id = "01M8DHP3E3B0RHC0CGQ5V0TJ2B";
    private static readonly Caller Visitor = new("acme", ParticipantRole.Visitor, "v1", "Ann", false);

    [Fact]
    public void Plain_text_has_no_content()
    {
        var normalized = Ok(Send("hello", TextContent.Instance));
        Assert.Equal("hello", normalized.Text);
        Assert.Null(normalized.Content);

        var unchanged = Send("hello");
        Assert.Same(unchanged, Ok(unchanged));
    }

    [Fact]
    public void The_legacy_text_form_becomes_attachment_content_named_by_its_file()
    {
        var normalized = Ok(Send($"[attachment:{Id}:image/png] screen shot.png"));

        Assert.Equal("screen shot.png", normalized.Text);
        Assert.Equal(new AttachmentContent(Id, "image/png", "screen shot.png", 0), normalized.Content);
    }

    [Fact]
    public void Text_content_is_text_even_in_the_legacy_form()
    {
        var text = $"[attachment:{Id}:image/png] x.png";
        var normalized = Ok(Send(text, TextContent.Instance));
        Assert.Equal(text, normalized.Text);

        // It keeps saying so: a message without content in this form would be read as an attachment later.
        Assert.Same(TextContent.Instance, normalized.Content);
    }

    [Theory]
    [InlineData($"see [attachment:{Id}:image/png] x.png")]
    [InlineData($"[attachment:{Id}:image/png] x.png\n")]
    [InlineData($"[attachment:{Id}:image/png] two\nlines")]
    [InlineData($"[attachment:{Id}:Image/PNG] x.png")]
    [InlineData("[attachment:01m8dhp3e3b0rhc0cgq5v0tj2b:image/png] x.png")]
    [InlineData($"[attachment:{Id}:image/png]  ")]
    public void Text_that_is_not_exactly_the_form_stays_text(string text)
    {
        var normalized = Ok(Send(text));
        Assert.Equal(text, normalized.Text);
        Assert.Null(normalized.Content);
    }

    [Fact]
    public void Attachment_content_takes_its_name_as_text()
    {
        var attachment = new AttachmentContent(Id, "application/pdf", "invoice 2026.pdf", 4211);
        var normalized = Ok(Send("ignored", attachment));
        Assert.Equal("invoice 2026.pdf", normalized.Text);
        Assert.Equal(attachment, normalized.Content);
    }

    [Theory]
    [InlineData("not-a-ulid", "image/png", "a.png", 1)]
    [InlineData("01m8dhp3e3b0rhc0cgq5v0tj2b", "image/png", "a.png", 1)]
    [InlineData(Id, "", "a.png", 1)]
    [InlineData(Id, "image/PNG", "a.png", 1)]
    [InlineData(Id, "image/png; charset=x", "a.png", 1)]
    [InlineData(Id, "image/png", " ", 1)]
    [InlineData(Id, "image/png", "a\r\nb.png", 1)]
    [InlineData(Id, "image/png", "a.png", -1)]
    public void Invalid_attachment_content_is_refused(string id, string type, string name, long size)
    {
        var outcome = MessageContentRules.Normalize(Send("x", new AttachmentContent(id, type, name, size)));
        Assert.Equal(ErrorCodes.InvalidField, outcome.Error?.Code);
    }

    [Fact]
    public void A_name_longer_than_the_upload_allows_is_refused()
    {
        var outcome = MessageContentRules.Normalize(Send("x", new AttachmentContent(Id, "image/png", new string('a', MessageContentRules.MaxNameLength + 1), 1)));
        Assert.Equal(ErrorCodes.InvalidField, outcome.Error?.Code);
    }

    [Fact]
    public void Messages_preview_by_content_kind()
    {
        var activity = new ConversationActivity();
        activity.Add(new ChatMessage("c", Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v1", null), "caption ignored",
            DateTimeOffset.UtcNow, null, new AttachmentContent(Id, "image/png", "holiday\nphoto.png", 3)));
        Assert.Equal("holiday photo.png", activity.Preview);

        activity.Add(new ChatMessage("c", Ulid.NewUlid(), 2, new Sender(ParticipantRole.Agent, "bob", null), "Nice!", DateTimeOffset.UtcNow, null));
        Assert.Equal("Nice!", activity.Preview);
    }

    [Fact]
    public void Typed_reads_legacy_text_as_attachment_and_leaves_typed_messages_alone()
    {
        var legacy = new ChatMessage("c", Ulid.NewUlid(), 1, new Sender(ParticipantRole.Visitor, "v1", null), $"[attachment:{Id}:image/gif] cat.gif", DateTimeOffset.UtcNow, null);
        var typed = MessageContentRules.Typed(legacy);
        Assert.Equal("cat.gif", typed.Text);
        Assert.Equal(ContentKinds.Attachment, typed.Kind);

        var text = legacy with { Content = TextContent.Instance };
        Assert.Same(text, MessageContentRules.Typed(text));
    }

    private static SendMessage Send(string text, MessageContent? content = null) => new(Visitor, "c1", text, null, content);

    private static SendMessage Ok(SendMessage command)
    {
        var outcome = MessageContentRules.Normalize(command);
        Assert.Null(outcome.Error);
        return outcome.Value!;
    }
}
