namespace Kefu.Contracts.Messages;

/// <summary>The content kinds a message can have. A message without content is text (older rows, plain sends).</summary>
public static class ContentKinds
{
    public const string Text = "text";
    public const string Attachment = "attachment";

    public static readonly string[] All = [Text, Attachment];
}

/// <summary>
/// What a message carries besides its <see cref="ChatMessage.Text"/> (which stays the fallback any client can show).
/// Kinds beyond text: an uploaded file; room for cards and templates from bots (a new sealed record with its own kind).
/// </summary>
[GenerateSerializer, Immutable]
public abstract record MessageContent
{
    public abstract string Kind { get; }
}

/// <summary>Plain text: the message's text is the whole content.</summary>
[GenerateSerializer, Immutable]
public sealed record TextContent : MessageContent
{
    public static readonly TextContent Instance = new();

    public override string Kind => ContentKinds.Text;
}

/// <summary>An uploaded file (POST /api/v1/conversations/{id}/attachments); the message's text is its name.</summary>
[GenerateSerializer, Immutable]
public sealed record AttachmentContent(
    [property: Id(0)] string AttachmentId,
    [property: Id(1)] string ContentType,
    [property: Id(2)] string Name,
    [property: Id(3)] long Size) : MessageContent
{
    public override string Kind => ContentKinds.Attachment;
}
