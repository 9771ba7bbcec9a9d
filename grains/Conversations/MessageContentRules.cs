using System.Text.RegularExpressions;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Conversations;

/// <summary>
/// What a message may carry, and its one stored form (docs/protocol.md §5.1 and §6.2). Plain text has no typed content
/// (null), so a text message looks the same whether it was sent before typed content existed or after. An attachment's
/// text is its file name: clients that do not know the kind still show something sensible. The legacy text form
/// <c>[attachment:{id}:{type}] {name}</c> (what clients sent before typed content) becomes attachment content, so old
/// clients keep working and old rows read back typed.
/// </summary>
public static partial class MessageContentRules
{
    /// <summary>The longest file name an attachment may carry (the upload cuts names to this).</summary>
    public const int MaxNameLength = 200;

    /// <summary>The longest content type an attachment may carry.</summary>
    public const int MaxContentTypeLength = 127;

    /// <summary>
    /// The send with its content in the stored form, or why it is refused (<c>invalid_field</c>): no content → the text
    /// as given, unless it is exactly the legacy attachment form, which becomes <see cref="AttachmentContent"/> (size 0:
    /// the form does not carry it) with the name as text; <see cref="TextContent"/> → null content, the text as given;
    /// <see cref="AttachmentContent"/> → checked, and the text replaced by its name. Text rules (blank, length) stay
    /// with the caller and apply to the normalized text. Pure: looks nothing up (the gateway fills an attachment's
    /// type, name and size from the upload of the same conversation before it calls the grain).
    /// </summary>
    public static Outcome<SendMessage> Normalize(SendMessage command)
    {
        ArgumentNullException.ThrowIfNull(command);
        switch (command.Content)
        {
            case null:
                return command.Text is { } text && TryParseLegacy(text, out var legacy)
                    ? command with { Text = legacy.Name, Content = legacy }
                    : command;

            case TextContent:
                // Said to be text: stored as text whatever it looks like. Plain text needs no content; text that looks
                // like the legacy form keeps saying it is text, so nothing downstream reads it as an attachment.
                return command with { Content = command.Text is { } said && TryParseLegacy(said, out _) ? TextContent.Instance : null };

            case AttachmentContent attachment:
                return Check(attachment) is { } error ? error : command with { Text = attachment.Name };

            default:
                return KefuError.Invalid($"Content of kind '{command.Content.Kind}' cannot be sent.");
        }
    }

    /// <summary>Why <paramref name="attachment"/> is not a valid attachment reference, or null when it is.</summary>
    public static KefuError? Check(AttachmentContent attachment)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (!IsCanonicalUlid(attachment.AttachmentId))
        {
            return KefuError.Invalid("'content.attachmentId' is not a valid id.");
        }

        if (attachment.ContentType is not { Length: > 0 and <= MaxContentTypeLength } type || !ContentTypeForm().IsMatch(type))
        {
            return KefuError.Invalid("'content.contentType' must be a lower-case type/subtype.");
        }

        if (string.IsNullOrWhiteSpace(attachment.Name) || attachment.Name.Length > MaxNameLength || attachment.Name.AsSpan().ContainsAny('\r', '\n'))
        {
            return KefuError.Invalid($"'content.name' must be 1 to {MaxNameLength} characters on one line.");
        }

        return attachment.Size < 0 ? KefuError.Invalid("'content.size' must be >= 0.") : null;
    }

    /// <summary>
    /// Reads the legacy text form <c>[attachment:{id}:{type}] {name}</c> (the whole text, exactly; docs/protocol.md §3.5).
    /// The size is 0: the form does not carry it.
    /// </summary>
    public static bool TryParseLegacy(string text, out AttachmentContent attachment)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("[attachment:", StringComparison.Ordinal) && LegacyForm().Match(text) is { Success: true } match)
        {
            attachment = new AttachmentContent(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value, 0);
            return Check(attachment) is null;
        }

        attachment = null!;
        return false;
    }

    /// <summary>A message as clients see it: legacy attachment text (rows stored before typed content) read as attachment content.</summary>
    public static ChatMessage Typed(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.Content is null && TryParseLegacy(message.Text, out var legacy)
            ? message with { Text = legacy.Name, Content = legacy }
            : message;
    }

    private static bool IsCanonicalUlid(string? id) =>
        id is { Length: 26 } && Ulid.TryParse(id, out var ulid) && string.Equals(ulid.ToString(), id, StringComparison.Ordinal);

    [GeneratedRegex(@"^\[attachment:([0-9A-HJKMNP-TV-Z]{26}):([a-z0-9.+-]+/[a-z0-9.+-]+)\] ([^\r\n]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex LegacyForm();

    [GeneratedRegex(@"^[a-z0-9.+-]+/[a-z0-9.+-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex ContentTypeForm();
}
