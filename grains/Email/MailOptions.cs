using System.Text;

namespace Kefu.Grains.Email;

/// <summary>
/// Email configuration (<c>Kefu:Mail</c>, docs/email.md): the SMTP server mail goes out through, the addresses it comes
/// from, and the built-in receiver that takes replies and bounces. Unset <see cref="Smtp"/> host: no mail is sent.
/// Secrets (<see cref="SmtpOptions.Password"/>, <see cref="TokenKey"/>) come from configuration, never from the repo,
/// and are never logged.
/// </summary>
public sealed class MailOptions
{
    public const string Section = "Kefu:Mail";

    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>The visible sender of every mail, e.g. <c>Acme Support &lt;support@acme.example&gt;</c>.</summary>
    public string? From { get; set; }

    /// <summary>
    /// The domain of the per-conversation reply addresses and of the bounce addresses (e.g. <c>reply.acme.example</c>):
    /// its MX (or a forwarding rule) points at the built-in receiver.
    /// </summary>
    public string? ReplyDomain { get; set; }

    /// <summary>The key that signs reply and bounce addresses (<c>Kefu.Contracts.Email.MailTokens</c>): at least 32 characters.</summary>
    public string? TokenKey { get; set; }

    public MailReceiverOptions Receiver { get; set; } = new();

    /// <summary>
    /// An agent's reply goes to the visitor by email when the visitor is still not connected (and has not read it) this
    /// long after the reply: a visitor who is back within the time reads it in the widget instead.
    /// </summary>
    public TimeSpan OfflineReplyAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How many earlier messages an offline reply mail shows under the new ones.</summary>
    public int HistoryMessages { get; set; } = 10;

    /// <summary>The most messages a transcript holds (the newest ones; a note says when older ones were left out).</summary>
    public int TranscriptMaxMessages { get; set; } = 500;

    /// <summary>A visitor may ask for a conversation's transcript once per this interval.</summary>
    public TimeSpan TranscriptInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a tenant's mail trigger reads the event log when nothing woke it (events of other silos).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The console's address (e.g. <c>https://kefu.acme.example/console/</c>), linked from agent notifications; unset: no link.</summary>
    public string? ConsoleUrl { get; set; }

    public MailRetryOptions Retry { get; set; } = new();

    /// <summary>Sending is configured (an SMTP host and a From address).</summary>
    public bool SendingEnabled => !string.IsNullOrWhiteSpace(Smtp.Host) && !string.IsNullOrWhiteSpace(From);

    public byte[] TokenKeyBytes() => Encoding.UTF8.GetBytes(TokenKey ?? "");
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>auto (STARTTLS when offered), none, starttls (required), ssl (TLS on connect, port 465).</summary>
    public string Security { get; set; } = "auto";

    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>How long one SMTP conversation may take before the attempt counts as failed (and is retried).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>How a mail the SMTP server did not take (busy, down, 4xx) is tried again: full-jitter exponential backoff.</summary>
public sealed class MailRetryOptions
{
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Attempts after which the mail is given up (email.failed).</summary>
    public int MaxAttempts { get; set; } = 10;
}

/// <summary>The built-in SMTP receiver for replies and bounces (docs/email.md says why it is SMTP and not IMAP polling).</summary>
public sealed class MailReceiverOptions
{
    /// <summary>The port it listens on (0: off). Production: 25 behind the MX, or any port a relay forwards to.</summary>
    public int Port { get; set; }

    /// <summary>The address it binds (loopback by default: expose it deliberately).</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Mails bigger than this are refused during the SMTP conversation (552), so nothing large is buffered.</summary>
    public long MaxMessageBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>
    /// Recipients one connection may name (RCPT TO) before further ones are refused (452): a real reply names one
    /// conversation, so many recipients on one connection is someone probing for valid addresses.
    /// </summary>
    public int MaxRecipients { get; set; } = 10;

    /// <summary>How long one SMTP connection may stay open, and a command may take to arrive, before it is dropped.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);
}
