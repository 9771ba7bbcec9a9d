using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.DataProtection;

/// <summary>The documents of a contact's export (docs/data-protection.md, "Export format"), written as camelCase JSON.</summary>
public static class ExportDocuments
{
    /// <summary>A field changed on both sides: Kefu's value and the CRM's.</summary>
    public sealed record CrmConflictDocument(string Field, string? Kefu, string? Crm);

    public sealed record ContactDocument(
        string Id, string? ExternalId, string? Name, string? Email, IReadOnlyDictionary<string, string> Attributes,
        IReadOnlyList<string> VisitorIds, IReadOnlyList<string> ConversationIds, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static ContactDocument From(Contact c, IReadOnlyList<string> visitorIds, IReadOnlyList<string> conversationIds) =>
            new(c.ContactId, c.ExternalId, c.Name, c.Email, c.Attributes, visitorIds, conversationIds, c.CreatedAt, c.UpdatedAt);
    }

    public sealed record VisitorDocument(
        string Id, string? Name, string? Email, string Inbox, IReadOnlyDictionary<string, string> Attributes, DateTimeOffset CreatedAt)
    {
        public static VisitorDocument From(string id, VisitorProfile p) => new(id, p.Name, p.Email, p.Inbox, p.Attributes, p.CreatedAt);
    }

    public sealed record SenderDocument(string Role, string Id, string? Name)
    {
        public static SenderDocument From(Sender s) => new(s.Role.ToString().ToLowerInvariant(), s.Id, s.Name);
    }

    public sealed record AttachmentDocument(string AttachmentId, string ContentType, string Name, long Size);

    public sealed record MessageDocument(long Seq, string Id, SenderDocument Sender, string Kind, string Text, AttachmentDocument? Attachment, DateTimeOffset Ts)
    {
        public static MessageDocument From(ChatMessage m) => new(
            m.Seq, m.MessageId.ToString(), SenderDocument.From(m.Sender), m.Kind, m.Text,
            m.Content is AttachmentContent a ? new AttachmentDocument(a.AttachmentId, a.ContentType, a.Name, a.Size) : null, m.Ts);
    }

    public sealed record NoteDocument(string Id, SenderDocument Author, string Text, DateTimeOffset Ts)
    {
        public static NoteDocument From(InternalNote n) => new(n.NoteId, SenderDocument.From(n.Author), n.Text, n.Ts);
    }

    public sealed record RatingDocument(int Rating, string? Comment, DateTimeOffset Ts);

    /// <summary>
    /// A CRM sync record (<c>crm/{crm}/{kind}/{recordId}.json</c>): where it stands and the values the CRM was last
    /// confirmed to hold (<see cref="ConfirmedFields"/>, by Kefu field name), with any conflict's both sides.
    /// </summary>
    public sealed record CrmRecordDocument(
        string Crm, string Kind, string RecordId, string State, DateTimeOffset? InSyncAt, DateTimeOffset? LastAttemptAt, string? LastError,
        IReadOnlyDictionary<string, string?> ConfirmedFields, IReadOnlyList<CrmConflictDocument> Conflicts)
    {
        public static CrmRecordDocument From(Kefu.Grains.Crm.CrmSyncRecordData d) => new(
            d.View.Crm, d.View.Kind, d.View.RecordId, d.View.State, d.View.InSyncAt, d.View.LastAttemptAt, d.View.LastError,
            d.ConfirmedFields ?? [], [.. d.View.Conflicts.Select(c => new CrmConflictDocument(c.Field, c.Local, c.Crm))]);
    }

    /// <summary>A mail Kefu sent or meant to send to the customer (<c>mail/{mailId}.json</c>): recipient, subject and text as sent.</summary>
    public sealed record MailDocument(
        string MailId, string Kind, string? ConversationId, string State, string To, string? ToName, string Subject, string Text,
        DateTimeOffset CreatedAt, DateTimeOffset? SentAt, bool Bounced, string? LastError)
    {
        public static MailDocument From(Kefu.Grains.Email.OutboundMailRecord r) => new(
            r.View.MailId, r.Mail.Kind, r.Mail.ConversationId, r.View.State, r.Mail.To, r.Mail.ToName, r.Mail.Subject, r.Mail.Text,
            r.CreatedAt, r.View.SentAt, r.View.Bounced, r.View.LastError);
    }

    /// <summary>
    /// One conversation: what the list shows about it, its internal notes (they are about the customer, so the customer
    /// gets them) and every message, streamed from the store page by page.
    /// </summary>
    public sealed record ConversationDocument(
        string Id, string Inbox, string Status, string VisitorId, string? VisitorName, DateTimeOffset? CreatedAt, string[] Tags,
        RatingDocument? Rating, IReadOnlyList<NoteDocument> Notes, IAsyncEnumerable<MessageDocument> Messages);
}
