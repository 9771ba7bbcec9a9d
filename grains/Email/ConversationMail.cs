using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Email.Templates;

namespace Kefu.Grains.Email;

/// <summary>Who a conversation's visitor is for mail: the address (profile, else its contact's), name and language.</summary>
public sealed record VisitorMailbox(string? Email, string? Name, string Language);

/// <summary>Reads what a conversation's mails show, through the grains that own it (nothing is copied ahead of time).</summary>
internal static class ConversationMail
{
    /// <summary>Reads as the tenant's system (an admin-like reader that is nobody's participant).</summary>
    public static Caller Reader(string tenant) => new(tenant, ParticipantRole.Agent, "mail", "Mail", IsAdmin: true);

    public static async Task<VisitorMailbox> VisitorAsync(IGrainFactory grains, string tenant, string visitorId)
    {
        var profile = await grains.GetGrain<IVisitorGrain>(Tenancy.Key(tenant, visitorId)).GetProfile();
        var email = profile?.Email;
        var name = profile?.Name;
        if (profile?.ContactId is { } contactId && (email is null || name is null))
        {
            var contact = await grains.GetGrain<IContactGrain>(Tenancy.Key(tenant, contactId)).Get();
            email ??= contact?.Email;
            name ??= contact?.Name;
        }

        var language = MailTemplates.LanguageOf(VisitorLocale.Of(profile?.Attributes));
        return new VisitorMailbox(AgentPreferences.IsEmailAddress(email) ? email : null, name, language);
    }

    /// <summary>Messages with seq in (<paramref name="after"/>, <paramref name="through"/>], oldest first.</summary>
    public static async Task<List<ChatMessage>> MessagesAsync(IConversationGrain conversation, string tenant, long after, long through)
    {
        var reader = Reader(tenant);
        var messages = new List<ChatMessage>();
        while (after < through)
        {
            var page = await conversation.GetMessages(reader, after, (int)Math.Min(200, through - after));
            if (page.Value is not { Messages.Length: > 0 } got)
            {
                break;
            }

            messages.AddRange(got.Messages.Where(m => m.Seq <= through));
            after = got.Messages[^1].Seq;
        }

        return messages;
    }

    public static MailLine Line(ChatMessage m) => new(
        m.Sender.Name ?? "",
        m.Sender.Role == ParticipantRole.Visitor,
        m.Content is AttachmentContent a ? $"[{a.Name}]" : m.Text,
        m.Ts);

    /// <summary>The inbox's display name (the tenant's name for it), or the inbox id.</summary>
    public static async Task<(string Name, InboxConfig? Inbox)> InboxAsync(IGrainFactory grains, string tenant, string inboxId)
    {
        var inbox = await grains.GetGrain<ITenantGrain>(tenant).GetInbox(inboxId);
        return (inbox?.Name ?? inboxId, inbox);
    }
}
