using Kefu.Contracts.Email;
using MimeKit;

namespace Kefu.Gateway.Email;

public enum InboundKind
{
    /// <summary>Not ours: refused at RCPT TO (550).</summary>
    None,

    /// <summary>A signed reply address: the conversation is in the address.</summary>
    Reply,

    /// <summary>A signed bounce address: the outbound mail is in the address.</summary>
    Bounce,

    /// <summary>
    /// The configured From address (a mail program that answers From instead of Reply-To, where the deployer forwards
    /// that mailbox here): the conversation comes from In-Reply-To/References only.
    /// </summary>
    From,
}

/// <param name="Id">The conversation id (reply) or the outbound mail id (bounce).</param>
public readonly record struct InboundAddress(InboundKind Kind, string Tenant = "", string Id = "");

/// <summary>
/// Which recipient addresses the receiver takes, and which conversation a mail's Message-ID references name. Only
/// signed addresses (<see cref="MailTokens"/>) of the reply domain open a conversation: the MAC is the capability, so
/// nobody can write into a conversation by guessing its id.
/// </summary>
public sealed class InboundAddresses(string? replyDomain, string? fromAddress, byte[] key)
{
    public bool Configured => !string.IsNullOrWhiteSpace(replyDomain) && key.Length > 0;

    public InboundAddress Classify(string? user, string? host)
    {
        if (!Configured || string.IsNullOrEmpty(user) || string.IsNullOrEmpty(host))
        {
            return default;
        }

        if (string.Equals(host, replyDomain, StringComparison.OrdinalIgnoreCase))
        {
            if (MailTokens.TryParseReply(user, key, out var tenant, out var conversationId))
            {
                return new InboundAddress(InboundKind.Reply, tenant, conversationId);
            }

            if (MailTokens.TryParseBounce(user, key, out tenant, out var mailId))
            {
                return new InboundAddress(InboundKind.Bounce, tenant, mailId);
            }
        }

        return fromAddress is not null && string.Equals($"{user}@{host}", fromAddress, StringComparison.OrdinalIgnoreCase)
            ? new InboundAddress(InboundKind.From)
            : default;
    }

    /// <summary>
    /// The conversation a reply's In-Reply-To or References names: Kefu's Message-IDs are
    /// <c>&lt;{mailId}.{replyLocalPart}@{replyDomain}&gt;</c>. The newest reference (In-Reply-To, then References from
    /// the end) wins.
    /// </summary>
    public InboundAddress FromReferences(MimeMessage message)
    {
        var ids = new List<string>();
        if (message.InReplyTo is { } inReplyTo)
        {
            ids.Add(inReplyTo);
        }

        ids.AddRange(message.References.Reverse());
        foreach (var id in ids)
        {
            var at = id.LastIndexOf('@');
            var dot = id.IndexOf('.', StringComparison.Ordinal);
            if (at <= 0 || dot <= 0 || dot > at || !string.Equals(id[(at + 1)..], replyDomain, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (Configured && MailTokens.TryParseReply(id[(dot + 1)..at], key, out var tenant, out var conversationId))
            {
                return new InboundAddress(InboundKind.Reply, tenant, conversationId);
            }
        }

        return default;
    }

    /// <summary>The bare address of a configured From such as <c>Acme Support &lt;support@acme.example&gt;</c>, or null.</summary>
    public static string? BareAddress(string? from) =>
        !string.IsNullOrWhiteSpace(from) && MailboxAddress.TryParse(from, out var mailbox) ? mailbox.Address : null;
}
