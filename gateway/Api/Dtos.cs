using System.Text.Json.Serialization;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Api;

/// <summary><see cref="UserId"/> + <see cref="UserHash"/>: the widget's data-user-id / data-user-hash (issue #14).</summary>
public sealed record CreateVisitorRequest(
    string? Name, string? Email, string? Inbox, Dictionary<string, string>? Attributes, string? Tenant, string? InboxKey = null,
    string? UserId = null, string? UserHash = null);

/// <summary><see cref="ContactId"/>: the contact an identified visitor is (null for an anonymous one).</summary>
public sealed record CreateVisitorResponse(string VisitorId, string Token, string? ContactId = null);

/// <summary>An anonymous visitor who signed in on the website: the same user id and hash as on the widget.</summary>
public sealed record IdentifyVisitorRequest(string? UserId, string? UserHash);

public sealed record IdentifyVisitorResponse(string VisitorId, string ContactId);

public sealed record LoginRequest(string? Username, string? Password, string? Tenant);

public sealed record LoginResponse(string Token, string AgentId, DateTime ExpiresAt);

public sealed record CreateAgentRequest(string? Username, string? Password, string? DisplayName, string? Role, int? Capacity = null);

/// <summary>An agent as listed: profile, the teams it belongs to, and its load as the dispatcher sees it.</summary>
public sealed record AgentResponse(
    string AgentId, string DisplayName, string Role, DateTime CreatedAt, int Capacity, string[] Teams, string Status, int OpenConversations,
    bool Active = true, string? AvatarUrl = null);

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

public sealed record MessageDto(string ConversationId, string MessageId, long Seq, SenderDto Sender, string Text, DateTime Ts, string? ClientMsgId, MessageContentDto Content)
{
    public static MessageDto From(ChatMessage m) =>
        new(m.ConversationId, m.MessageId.ToString(), m.Seq, SenderDto.From(m.Sender), m.Text, m.Ts.UtcDateTime, m.ClientMsgId, MessageContentDto.From(m));
}

/// <summary>
/// A message's typed content, as in the WebSocket <c>message</c> frame: <c>{"kind":"text"}</c>, or
/// <c>{"kind":"attachment","attachmentId","contentType","name","size"}</c> (the members of other kinds are left out).
/// </summary>
public sealed record MessageContentDto(
    string Kind,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AttachmentId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ContentType = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Size = null)
{
    private static readonly MessageContentDto Text = new(ContentKinds.Text);

    public static MessageContentDto From(ChatMessage m) => m.Content switch
    {
        AttachmentContent a => new(a.Kind, a.AttachmentId, a.ContentType, a.Name, a.Size),
        _ => Text,
    };
}

public sealed record MessagesResponse(MessageDto[] Messages, long LastSeq);
