using Kefu.Contracts.Email;
using MimeKit;

namespace Kefu.Grains.Email;

/// <summary>
/// The addresses and ids of Kefu's mail from the options (docs/email.md, "Threading"): with a reply domain and a token
/// key, Reply-To is the conversation's signed reply address and the envelope sender the mail's signed bounce address
/// (VERP); without them, mail still goes out from <see cref="MailOptions.From"/> but answers and bounces go there too.
/// </summary>
public sealed class MailAddresses(MailOptions options)
{
    /// <summary>Reply and bounce addresses can be made (a reply domain and a key long enough to sign them).</summary>
    public bool Signed => !string.IsNullOrWhiteSpace(options.ReplyDomain) && (options.TokenKey?.Length ?? 0) >= 32;

    /// <summary>The domain of Message-IDs: the reply domain, else the From address's domain.</summary>
    public string Domain => Signed ? options.ReplyDomain! : FromAddress.Domain is { Length: > 0 } d ? d : "localhost";

    private MailboxAddress FromAddress => MailboxAddress.TryParse(options.From ?? "", out var from) ? from : new MailboxAddress("", "kefu@localhost");

    public string? ReplyLocalPart(string tenant, string conversationId) =>
        Signed ? MailTokens.ReplyLocalPart(tenant, conversationId, options.TokenKeyBytes()) : null;

    public string? ReplyTo(string? replyLocalPart) => replyLocalPart is null || !Signed ? null : $"{replyLocalPart}@{options.ReplyDomain}";

    public string EnvelopeFrom(string tenant, string mailId) =>
        Signed ? $"{MailTokens.BounceLocalPart(tenant, mailId, options.TokenKeyBytes())}@{options.ReplyDomain}" : FromAddress.Address;

    public string MessageId(string mailId, string? replyLocalPart) => MailIds.MessageId(mailId, Signed ? replyLocalPart : null, Domain);
}
