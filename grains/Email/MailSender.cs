using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Kefu.Grains.Email;

/// <summary>How one SMTP attempt ended: accepted, worth another try later (4xx, down, timeout), or refused for good (5xx).</summary>
public enum MailAttemptOutcome
{
    Sent,
    Retry,
    Failed,
}

[GenerateSerializer, Immutable]
public sealed record MailAttemptResult([property: Id(0)] MailAttemptOutcome Outcome, [property: Id(1)] string? Error = null);

/// <summary>A mail ready for the wire: the rendered mail plus the addresses its grain worked out.</summary>
public sealed record MailEnvelope(OutboundMail Mail, string MessageId, string EnvelopeFrom, string? ReplyTo);

/// <summary>Hands mail to an SMTP server (a seam: the grain decides, this only talks SMTP).</summary>
public interface IMailSender
{
    Task<MailAttemptResult> SendAsync(MailEnvelope envelope, CancellationToken cancellationToken);
}

/// <summary>
/// MailKit's <see cref="SmtpClient"/>, one connection per mail (mail is rare next to chat, and a fresh connection never
/// carries a broken state from the last failure). The error kept for the events is the server's answer or the
/// exception's message: never the credentials.
/// </summary>
public sealed class SmtpMailSender(IOptionsMonitor<MailOptions> options) : IMailSender
{
    public async Task<MailAttemptResult> SendAsync(MailEnvelope envelope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        var o = options.CurrentValue;
        if (!o.SendingEnabled)
        {
            return new MailAttemptResult(MailAttemptOutcome.Retry, "mail sending is not configured");
        }

        using var message = Build(envelope, o);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(o.Smtp.Timeout);
        using var client = new SmtpClient { Timeout = (int)Math.Min(int.MaxValue, o.Smtp.Timeout.TotalMilliseconds) };
        try
        {
            await client.ConnectAsync(o.Smtp.Host!, o.Smtp.Port, Security(o.Smtp.Security), timeout.Token);
            if (!string.IsNullOrEmpty(o.Smtp.User))
            {
                await client.AuthenticateAsync(o.Smtp.User, o.Smtp.Password ?? "", timeout.Token);
            }

            await client.SendAsync(message, MailboxAddress.Parse(envelope.EnvelopeFrom), [MailboxAddress.Parse(envelope.Mail.To)], timeout.Token);
            await client.DisconnectAsync(quit: true, timeout.Token);
            return new MailAttemptResult(MailAttemptOutcome.Sent);
        }
        catch (SmtpCommandException ex)
        {
            // 5xx: the server will never take this mail (unknown recipient, policy); 4xx: try later.
            var code = (int)ex.StatusCode;
            var error = $"SMTP {code}: {ex.Message}";
            return new MailAttemptResult(code >= 500 ? MailAttemptOutcome.Failed : MailAttemptOutcome.Retry, error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new MailAttemptResult(MailAttemptOutcome.Retry, $"SMTP timed out after {o.Smtp.Timeout}");
        }
        catch (Exception ex) when (ex is SmtpProtocolException or IOException or SocketException or ServiceNotConnectedException
                                       or ServiceNotAuthenticatedException or AuthenticationException or SslHandshakeException or TimeoutException)
        {
            return new MailAttemptResult(MailAttemptOutcome.Retry, ex.Message);
        }
    }

    /// <summary>The MIME message: text and HTML alternatives, the Reply-To and threading headers.</summary>
    internal static MimeMessage Build(MailEnvelope envelope, MailOptions options)
    {
        var mail = envelope.Mail;
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.From!));
        message.To.Add(new MailboxAddress(mail.ToName ?? "", mail.To));
        if (envelope.ReplyTo is { } replyTo)
        {
            message.ReplyTo.Add(MailboxAddress.Parse(replyTo));
        }

        message.Subject = mail.Subject;
        message.MessageId = envelope.MessageId;
        if (mail.InReplyTo is { } inReplyTo)
        {
            message.InReplyTo = inReplyTo;
        }

        foreach (var reference in mail.References)
        {
            message.References.Add(reference);
        }

        // Auto-Submitted: out-of-office responders must not answer machine mail into the conversation (RFC 3834).
        message.Headers.Add("Auto-Submitted", "auto-generated");
        var body = new BodyBuilder { TextBody = mail.Text, HtmlBody = mail.Html };
        message.Body = body.ToMessageBody();
        return message;
    }

    private static SecureSocketOptions Security(string? mode) => mode?.ToLowerInvariant() switch
    {
        "none" => SecureSocketOptions.None,
        "starttls" => SecureSocketOptions.StartTls,
        "ssl" or "tls" => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTlsWhenAvailable,
    };
}
