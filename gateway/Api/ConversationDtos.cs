using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Api;

public sealed record CsatDto(int Rating, string? Comment, DateTime Ts)
{
    public static CsatDto? From(CsatRating? c) => c is null ? null : new(c.Rating, c.Comment, c.Ts.UtcDateTime);
}

/// <summary>
/// A conversation as the caller may see it: visitors get no tags, team, priority, notes or other participants' read
/// marks. <see cref="Unread"/> is, for agents, the visitor messages after the agents' read mark; for the visitor, the
/// messages after its own.
/// </summary>
public sealed record ConversationDto(
    string ConversationId, string VisitorId, string? VisitorName, string Inbox, string Status, string? AssigneeId,
    long LastSeq, DateTime CreatedAt, string[] AgentIds, string? Team, string Priority, string[] Tags, int? QueuePosition,
    DateTime? SnoozedUntil, double? FirstResponseSeconds, double? ResolutionSeconds, CsatDto? Csat, long Unread,
    string? Preview, DateTime LastActivityAt, string? AssigneeName, DateTime? QueuedAt)
{
    public static ConversationDto From(ConversationSummary s, string? readerKey = null) =>
        new(s.ConversationId, s.VisitorId, s.VisitorName, s.Inbox, s.Status, s.AssigneeId, s.LastSeq, s.CreatedAt.UtcDateTime,
            s.AgentIds, s.Team, s.Priority, s.Tags ?? [], s.QueuePosition, s.SnoozedUntil?.UtcDateTime,
            Round(s.FirstResponseSeconds), Round(s.ResolutionSeconds), CsatDto.From(s.Csat),
            readerKey is not null && readerKey == ParticipantKeys.Key(s.Tenant, ParticipantRole.Visitor, s.VisitorId) ? s.UnreadFor(readerKey) : s.Unread,
            s.Preview, s.ActivityAt.UtcDateTime, s.AssigneeName, s.QueuedAt?.UtcDateTime);

    /// <summary>What the owning visitor may see: no agent-side labels (the priority always reads "normal").</summary>
    public ConversationDto ForVisitor() => this with { Tags = [], Team = null, AgentIds = [], Priority = ConversationPriority.Normal };

    private static double? Round(double? seconds) => seconds is { } s ? Math.Round(s, 3) : null;
}

public sealed record ConversationListResponse(ConversationDto[] Conversations);

public sealed record ChangeStatusRequest(string? Status, DateTimeOffset? SnoozedUntil);

public sealed record TransferRequest(string? AgentId, string? TeamId);

public sealed record LabelRequest(string[]? Tags, string? Priority);

public sealed record NoteRequest(string? Text);

public sealed record NoteDto(string NoteId, string ConversationId, SenderDto Author, string Text, DateTime Ts)
{
    public static NoteDto From(InternalNote n) => new(n.NoteId, n.ConversationId, SenderDto.From(n.Author), n.Text, n.Ts.UtcDateTime);
}

public sealed record NoteListResponse(NoteDto[] Notes);

public sealed record CsatRequest(int? Rating, string? Comment);

public sealed record QueueEntryDto(string ConversationId, string Inbox, string? Team, string Priority, DateTime EnqueuedAt, int Position)
{
    public static QueueEntryDto From(QueueEntry e) => new(e.ConversationId, e.Inbox, e.Team, e.Priority, e.EnqueuedAt.UtcDateTime, e.Position);
}

public sealed record AgentLoadDto(string AgentId, string Status, int Capacity, string[] OpenConversations)
{
    public static AgentLoadDto From(AgentLoad a) => new(a.AgentId, AgentStatusNames.Name(a.Status), a.Capacity, a.OpenConversations);
}

public sealed record QueueResponse(QueueEntryDto[] Waiting, AgentLoadDto[] Agents);
