using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Kefu.Grains.Email;

/// <summary>Why a mail is sent; also the <c>kind</c> of the email.sent / email.failed events.</summary>
public static class MailKinds
{
    public const string OfflineReply = "offline_reply";
    public const string Transcript = "transcript";
    public const string AgentNotification = "agent_notification";
}

/// <summary>Where an outbound mail is in its life.</summary>
public static class MailStates
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string Failed = "failed";

    /// <summary>Its recipient's contact was erased before it went out: never sent (docs/data-protection.md).</summary>
    public const string Erased = "erased";
}

/// <summary>
/// One mail, rendered once when it is created and stored with its grain, so every retry sends the same bytes (the same
/// Message-ID and text). <see cref="ReplyLocalPart"/>: the conversation's signed reply address (Reply-To and part of the
/// Message-ID), null for mail that must not be answered into the conversation (agent notifications).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record OutboundMail(
    [property: Id(0)] string Kind,
    [property: Id(1)] string? ConversationId,
    [property: Id(2)] string To,
    [property: Id(3)] string? ToName,
    [property: Id(4)] string Subject,
    [property: Id(5)] string Text,
    [property: Id(6)] string Html,
    [property: Id(7)] string? ReplyLocalPart,
    [property: Id(8)] string? InReplyTo,
    [property: Id(9)] string[] References);

/// <summary>What an outbound mail grain holds, for the thread, tests and diagnostics.</summary>
[GenerateSerializer, Immutable]
public sealed record OutboundMailView(
    [property: Id(0)] string MailId,
    [property: Id(1)] string State,
    [property: Id(2)] string Kind,
    [property: Id(3)] string To,
    [property: Id(4)] int Attempts,
    [property: Id(5)] string? LastError,
    [property: Id(6)] DateTimeOffset? NextAttemptAt,
    [property: Id(7)] DateTimeOffset? SentAt,
    [property: Id(8)] bool Bounced,
    [property: Id(9)] string MessageId);

/// <summary>
/// Mail ids derived from what caused the mail, so the same cause never makes two mails even when it is handled twice
/// (a trigger that replays events after a crash finds the mail grain already there). The ULID keeps the cause's time
/// (its first 48 bits) and takes its other 80 bits from a hash of cause, kind and recipient.
/// </summary>
public static class MailIds
{
    public static string Of(DateTimeOffset time, string cause, string kind, string recipient)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ms = Math.Max(0, time.ToUnixTimeMilliseconds());
        Span<byte> stamp = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(stamp, ms);
        stamp[2..].CopyTo(bytes);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(cause, "\n", kind, "\n", recipient.ToLowerInvariant())));
        hash.AsSpan(0, 10).CopyTo(bytes[6..]);
        return new Ulid(bytes).ToString();
    }

    /// <summary>The grain key of a tenant's mail.</summary>
    public static string Key(string tenant, string mailId) => string.Concat(tenant, "/", mailId);

    /// <summary>The RFC 5322 Message-ID (without angle brackets): the reply local part after the first dot lets the receiver thread an answer.</summary>
    public static string MessageId(string mailId, string? replyLocalPart, string domain) =>
        replyLocalPart is null ? $"{mailId}@{domain}" : $"{mailId}.{replyLocalPart}@{domain}";
}
