using System.Buffers;
using Kefu.Grains.Email;
using Microsoft.Extensions.Options;
using MimeKit;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Kefu.Gateway.Email;

/// <summary>
/// RCPT TO and MAIL FROM checks, during the SMTP dialogue: only signed reply and bounce addresses (and the From address)
/// are accepted, so mail for anything else is refused before a byte of it is received or stored.
/// </summary>
public sealed partial class MailReceiverFilter(InboundAddresses addresses, IOptions<MailOptions> options, ILogger<MailReceiverFilter> logger) : IMailboxFilter
{
    /// <summary>The session property that counts the recipients named on one connection.</summary>
    internal const string RecipientCount = "kefu.recipients";

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        // MAIL FROM's SIZE= parameter: refused before the data is sent.
        if (size > options.Value.Receiver.MaxMessageBytes)
        {
            throw new SmtpResponseException(SmtpResponse.SizeLimitExceeded);
        }

        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var count = context.Properties.TryGetValue(RecipientCount, out var value) ? (int)value : 0;
        if (count >= options.Value.Receiver.MaxRecipients)
        {
            LogTooManyRecipients(logger, context.SessionId);
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.InsufficientStorage, "4.5.3 Too many recipients on this connection"));
        }

        // Refused recipients count too: many of them on one connection is someone probing for valid addresses.
        context.Properties[RecipientCount] = count + 1;
        var address = addresses.Classify(to.User, to.Host);
        if (address.Kind == InboundKind.None)
        {
            // 550 by SmtpServer; neither the address nor why it failed (unknown domain, bad MAC) is told to the sender.
            LogUnknownRecipient(logger, context.SessionId);
            return Task.FromResult(false);
        }

        return Task.FromResult(true);
    }

    [LoggerMessage(EventId = 1811, Level = LogLevel.Information, Message = "SMTP session {SessionId}: a recipient that is not a signed reply or bounce address was refused")]
    private static partial void LogUnknownRecipient(ILogger logger, Guid sessionId);

    [LoggerMessage(EventId = 1812, Level = LogLevel.Warning, Message = "SMTP session {SessionId}: too many recipients; further ones refused")]
    private static partial void LogTooManyRecipients(ILogger logger, Guid sessionId);
}

/// <summary>The end of DATA: parse the mail (MimeKit) and hand it to <see cref="InboundMailHandler"/>; nothing is written to disk.</summary>
public sealed partial class MailReceiverStore(InboundAddresses addresses, InboundMailHandler handler, ILogger<MailReceiverStore> logger) : MessageStore
{
    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        MimeMessage message;
        try
        {
            using var stream = new MemoryStream(buffer.ToArray(), writable: false);
            message = await MimeMessage.LoadAsync(stream, cancellationToken);
        }
        catch (Exception e) when (e is FormatException or ParseException)
        {
            // Not a mail MimeKit can read (it reads almost anything): refused, and the sender's server tells its user.
            LogUnreadable(logger, e, context.SessionId, buffer.Length);
            return new SmtpResponse(SmtpReplyCode.TransactionFailed, "5.6.0 The message could not be parsed");
        }

        var recipients = transaction.To.Select(to => addresses.Classify(to.User, to.Host)).ToList();
        return await handler.HandleAsync(recipients, message) switch
        {
            InboundOutcome.NoConversation => new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 This mail answers no conversation"),
            InboundOutcome.TryLater => new SmtpResponse((SmtpReplyCode)451, "4.3.0 Try again later"),
            _ => SmtpResponse.Ok,
        };
    }

    [LoggerMessage(EventId = 1813, Level = LogLevel.Warning, Message = "SMTP session {SessionId}: a mail of {Bytes} bytes could not be parsed; refused")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, Guid sessionId, long bytes);
}
