using System.Security.Cryptography;
using System.Text;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Gateway.WebSockets;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Kefu.Gateway.Email;

/// <summary>What the receiver answers at the end of DATA.</summary>
public enum InboundOutcome
{
    /// <summary>250: taken (posted, recorded, or deliberately dropped with a log line).</summary>
    Accepted,

    /// <summary>550: sent to the From address, but it answers no conversation Kefu knows.</summary>
    NoConversation,

    /// <summary>451: the cluster could not be reached; the sending server tries again later (and duplicates are harmless).</summary>
    TryLater,
}

/// <summary>
/// Decides what one received mail does, once its recipients have passed <see cref="InboundAddresses"/>: a reply is
/// appended to its conversation as the visitor's message, a failed delivery report tells the outbound mail it bounced,
/// anything else is dropped with a log line.
/// </summary>
public sealed partial class InboundMailHandler(
    IGrainFactory grains, IBounceSink bounces, InboundAddresses addresses, IOptions<KefuWebSocketOptions> chatOptions, ILogger<InboundMailHandler> logger)
{
    public async Task<InboundOutcome> HandleAsync(IReadOnlyList<InboundAddress> recipients, MimeMessage message)
    {
        var outcome = InboundOutcome.Accepted;
        foreach (var bounce in recipients.Where(r => r.Kind == InboundKind.Bounce).Distinct())
        {
            outcome = Worst(outcome, await BounceAsync(bounce, message));
        }

        var conversations = recipients.Where(r => r.Kind == InboundKind.Reply).Distinct().ToList();
        if (conversations.Count == 0 && recipients.Any(r => r.Kind == InboundKind.From))
        {
            // A mail program that answered From: Kefu's Message-ID in In-Reply-To/References still names the conversation.
            if (addresses.FromReferences(message) is { Kind: InboundKind.Reply } referenced)
            {
                conversations.Add(referenced);
            }
            else
            {
                LogNoConversation(logger, message.MessageId);
                outcome = Worst(outcome, InboundOutcome.NoConversation);
            }
        }

        foreach (var conversation in conversations)
        {
            outcome = Worst(outcome, await ReplyAsync(conversation, message));
        }

        return outcome;
    }

    private async Task<InboundOutcome> BounceAsync(InboundAddress address, MimeMessage message)
    {
        var report = DsnReader.Read(message);
        if (!report.Failed)
        {
            // Delayed (still trying), delivered or relayed reports, auto-replies and stray mail: nothing failed.
            LogBounceIgnored(logger, address.Tenant, address.Id, report.IsReport);
            return InboundOutcome.Accepted;
        }

        try
        {
            await bounces.BouncedAsync(address.Tenant, address.Id, report.Reason!);
            LogBounced(logger, address.Tenant, address.Id);
            return InboundOutcome.Accepted;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTryLater(logger, e, address.Tenant, address.Id);
            return InboundOutcome.TryLater;
        }
    }

    private async Task<InboundOutcome> ReplyAsync(InboundAddress address, MimeMessage message)
    {
        if (IsAutomatic(message))
        {
            // An out-of-office notice or another robot's answer is not the visitor speaking (and answering it could loop).
            LogAutomatic(logger, address.Tenant, address.Id);
            return InboundOutcome.Accepted;
        }

        var text = ReplyText.Extract(message);
        if (text.Length == 0)
        {
            LogEmptyReply(logger, address.Tenant, address.Id);
            return InboundOutcome.Accepted;
        }

        var maxText = chatOptions.Value.MaxTextLength;
        if (text.Length > maxText)
        {
            text = string.Concat(text.AsSpan(0, maxText - 1), "…");
        }

        try
        {
            var conversation = grains.GetGrain<IConversationGrain>(Tenancy.Key(address.Tenant, address.Id));
            if (await conversation.GetSummary() is not { } summary)
            {
                LogUnknownConversation(logger, address.Tenant, address.Id);
                return InboundOutcome.Accepted;
            }

            await NoteSenderAsync(summary, message);

            // As the conversation's visitor, like the widget's left message: the same rules, and a resolved conversation
            // reopens as it does for any visitor message. The id comes from the Message-ID, so a mail delivered twice is
            // one message.
            var visitor = new Caller(address.Tenant, ParticipantRole.Visitor, summary.VisitorId, summary.VisitorName, IsAdmin: false);
            var hooked = await grains.GetGrain<IBeforeMessageHookGrain>(address.Tenant).Run(new BeforeMessageInput(address.Id, summary.Inbox, text, summary.VisitorId));
            if (hooked.Refused)
            {
                // Refused by a tenant's plugin: accepted as mail (no bounce to the sender), not stored as a message.
                LogRefused(logger, address.Tenant, address.Id, ErrorCodes.Refused);
                return InboundOutcome.Accepted;
            }

            var sent = await conversation.Send(new SendMessage(visitor, ClientMsgId(message), hooked.Text, ConnectionId: null, TextContent.Instance));
            if (sent.Error is { } error)
            {
                LogRefused(logger, address.Tenant, address.Id, error.Code);
                return InboundOutcome.Accepted;
            }

            LogPosted(logger, address.Tenant, address.Id, sent.Value!.Seq);
            return InboundOutcome.Accepted;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTryLater(logger, e, address.Tenant, address.Id);
            return InboundOutcome.TryLater;
        }
    }

    /// <summary>
    /// The signed reply address is the capability: whoever holds it may answer (a visitor writing from a second address,
    /// a colleague in Cc). A From that is not the visitor's known email is accepted, and recorded here.
    /// </summary>
    private async Task NoteSenderAsync(ConversationSummary summary, MimeMessage message)
    {
        var from = message.From.Mailboxes.FirstOrDefault()?.Address;
        var profile = await grains.GetGrain<IVisitorGrain>(Tenancy.Key(summary.Tenant, summary.VisitorId)).GetProfile();
        if (profile?.Email is { } known && !string.Equals(known, from, StringComparison.OrdinalIgnoreCase))
        {
            LogOtherSender(logger, summary.Tenant, summary.ConversationId, from ?? "(none)");
        }
    }

    /// <summary>
    /// "email-" and 32 hex digits of the Message-ID's hash (the conversation allows 64 characters). A mail without a
    /// Message-ID (rare: every mail program sets one) is identified by its sender, date, subject and text.
    /// </summary>
    public static string ClientMsgId(MimeMessage message)
    {
        var identity = message.MessageId is { Length: > 0 } id
            ? id
            : string.Join('\n', message.From.ToString(), message.Date.ToString("O"), message.Subject, message.TextBody ?? message.HtmlBody);
        return "email-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)).AsSpan(0, 16));
    }

    /// <summary>
    /// Mail a program sent by itself: <c>Auto-Submitted</c> other than "no" (RFC 3834), the headers older responders
    /// use instead (<c>X-Autoreply</c>, <c>X-Autorespond</c>), or a bulk/list/auto-reply <c>Precedence</c>.
    /// </summary>
    public static bool IsAutomatic(MimeMessage message)
    {
        var headers = message.Headers;
        if (headers["Auto-Submitted"] is { } submitted && !submitted.Trim().Equals("no", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (headers.Contains("X-Autoreply") || headers.Contains("X-Autorespond") || headers.Contains("X-Autoresponder"))
        {
            return true;
        }

        return headers["Precedence"]?.Trim().ToLowerInvariant() is "bulk" or "list" or "junk" or "auto_reply";
    }

    private static InboundOutcome Worst(InboundOutcome a, InboundOutcome b) => (InboundOutcome)Math.Max((int)a, (int)b);

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Mail reply posted to conversation {Tenant}/{ConversationId} as seq {Seq}")]
    private static partial void LogPosted(ILogger logger, string tenant, string conversationId, long seq);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Information, Message = "Mail reply to conversation {Tenant}/{ConversationId} comes from {From}, not the visitor's known email; accepted (the signed reply address is the capability)")]
    private static partial void LogOtherSender(ILogger logger, string tenant, string conversationId, string from);

    [LoggerMessage(EventId = 1803, Level = LogLevel.Information, Message = "Mail reply to conversation {Tenant}/{ConversationId} has no new text; dropped")]
    private static partial void LogEmptyReply(ILogger logger, string tenant, string conversationId);

    [LoggerMessage(EventId = 1804, Level = LogLevel.Warning, Message = "Mail reply to conversation {Tenant}/{ConversationId}: the conversation does not exist; dropped")]
    private static partial void LogUnknownConversation(ILogger logger, string tenant, string conversationId);

    [LoggerMessage(EventId = 1805, Level = LogLevel.Warning, Message = "Mail reply to conversation {Tenant}/{ConversationId} refused by the conversation ({Code}); dropped")]
    private static partial void LogRefused(ILogger logger, string tenant, string conversationId, string code);

    [LoggerMessage(EventId = 1806, Level = LogLevel.Information, Message = "Mail {MessageId} to the From address names no conversation in In-Reply-To/References; refused")]
    private static partial void LogNoConversation(ILogger logger, string? messageId);

    [LoggerMessage(EventId = 1807, Level = LogLevel.Information, Message = "Outbound mail {Tenant}/{MailId} bounced")]
    private static partial void LogBounced(ILogger logger, string tenant, string mailId);

    [LoggerMessage(EventId = 1808, Level = LogLevel.Information, Message = "Mail to the bounce address of {Tenant}/{MailId} reports no failure (delivery report: {IsReport}); dropped")]
    private static partial void LogBounceIgnored(ILogger logger, string tenant, string mailId, bool isReport);

    [LoggerMessage(EventId = 1810, Level = LogLevel.Information, Message = "Automatic mail (auto-reply) to conversation {Tenant}/{ConversationId}; dropped")]
    private static partial void LogAutomatic(ILogger logger, string tenant, string conversationId);

    [LoggerMessage(EventId = 1809, Level = LogLevel.Warning, Message = "Mail for {Tenant}/{Id} could not be handled now; the sender is asked to try again")]
    private static partial void LogTryLater(ILogger logger, Exception exception, string tenant, string id);
}
