using System.Text;
using MimeKit;
using MimeKit.Text;

namespace Kefu.Gateway.Email;

/// <summary>
/// What a visitor wrote in a reply mail: the text/plain body when there is one (undoing format=flowed wrapping), else
/// the HTML body as text, then without the quoted history (<see cref="QuoteStripper"/>). Attachments are not imported;
/// a mail that has some says so in one line, so the agent knows to ask for them another way.
/// </summary>
public static class ReplyText
{
    public static string Extract(MimeMessage message)
    {
        var body = Body(message);
        var attachments = message.Attachments.Count();
        if (attachments > 0)
        {
            body = string.Concat(body, body.Length > 0 ? "\n\n" : "", $"[{attachments} attachment(s) not imported]");
        }

        return body;
    }

    private static string Body(MimeMessage message)
    {
        var plain = message.BodyParts.OfType<TextPart>().FirstOrDefault(p => p.IsPlain && !p.IsAttachment);
        if (plain is not null)
        {
            var text = Decode(plain);
            if (plain.IsFlowed)
            {
                var delsp = plain.ContentType.Parameters.TryGetValue("delsp", out string? value) && value.Equals("yes", StringComparison.OrdinalIgnoreCase);
                text = new FlowedToText { DeleteSpace = delsp }.Convert(text);
            }

            var stripped = QuoteStripper.Strip(text);
            if (stripped.Length > 0)
            {
                return stripped;
            }
        }

        var html = message.BodyParts.OfType<TextPart>().FirstOrDefault(p => p.IsHtml && !p.IsAttachment);
        return html is null ? "" : QuoteStripper.Strip(HtmlText.ToText(Decode(html)));
    }

    /// <summary>
    /// The part's text in its declared charset. Chinese mail often comes as GB2312/GBK/GB18030 (Japanese as Shift_JIS),
    /// which .NET knows only through the code-pages provider; MimeKit decides once which charsets exist, possibly before
    /// the provider was registered, so the encoding is looked up here (falling back to MimeKit's own guess).
    /// </summary>
    private static string Decode(TextPart part)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance); // idempotent, cheap next to parsing a mail
        if (part.ContentType.Charset is { Length: > 0 } charset)
        {
            try
            {
                return part.GetText(Encoding.GetEncoding(charset));
            }
            catch (ArgumentException)
            {
                // An unknown or misspelled charset: MimeKit's fallback below (UTF-8, else Latin-1).
            }
        }

        return part.Text ?? "";
    }
}
