using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Api;

public sealed record CreateVisitorRequest(string? Name, string? Email, string? Inbox, Dictionary<string, string>? Attributes, string? Tenant, string? InboxKey = null);

public sealed record CreateVisitorResponse(string VisitorId, string Token);

public sealed record LoginRequest(string? Username, string? Password, string? Tenant);

public sealed record LoginResponse(string Token, string AgentId, DateTime ExpiresAt);

public sealed record CreateAgentRequest(string? Username, string? Password, string? DisplayName, string? Role, int? Capacity = null);

/// <summary>An agent as listed: profile, the teams it belongs to, and its load as the dispatcher sees it.</summary>
public sealed record AgentResponse(
    string AgentId, string DisplayName, string Role, DateTime CreatedAt, int Capacity, string[] Teams, string Status, int OpenConversations,
    bool Active = true);

public sealed record AgentListResponse(AgentResponse[] Agents);

public sealed record SenderDto(string Role, string Id, string? Name)
{
    public static SenderDto From(Sender sender) => new(RoleName(sender.Role), sender.Id, sender.Name);

    public static string RoleName(ParticipantRole role) => role switch
    {
        ParticipantRole.Visitor => "visitor",
        ParticipantRole.Agent => "agent",
        ParticipantRole.System => "system",
        _ => "bot",
    };
}

public sealed record MessageDto(string ConversationId, string MessageId, long Seq, SenderDto Sender, string Text, DateTime Ts, string? ClientMsgId)
{
    public static MessageDto From(ChatMessage m) =>
        new(m.ConversationId, m.MessageId.ToString(), m.Seq, SenderDto.From(m.Sender), m.Text, m.Ts.UtcDateTime, m.ClientMsgId);
}

public sealed record MessagesResponse(MessageDto[] Messages, long LastSeq);
