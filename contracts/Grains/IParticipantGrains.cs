using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>Connection bookkeeping shared by visitors and agents: presence is what the heartbeats say, not trust.</summary>
public interface IConnectedParticipant
{
    Task Connect(string gatewayId, string connectionId);

    Task Disconnect(string gatewayId, string connectionId);

    /// <summary>The gateway's complete list of this participant's connections on it; refreshes presence.</summary>
    Task Heartbeat(string gatewayId, string[] connectionIds);

    [AlwaysInterleave]
    Task<ParticipantPresence> GetPresence();
}

/// <summary>A website visitor, keyed "{tenant}/{visitorId}".</summary>
public interface IVisitorGrain : IGrainWithStringKey, IConnectedParticipant
{
    Task<VisitorProfile> Register(VisitorProfile profile);

    [AlwaysInterleave]
    Task<VisitorProfile?> GetProfile();

    /// <summary>The visitor's current conversation, created on first use.</summary>
    Task<string> GetOrStartConversation();

    [AlwaysInterleave]
    Task<string?> GetCurrentConversation();

    /// <summary>
    /// Links the visitor to a contact (issue #14: identified by the widget) and returns the conversations it had so far
    /// (the contact lists them, and the ones started later: <see cref="ListConversations"/>). Linking to the same contact
    /// again is a no-op; a visitor already linked to another contact is a conflict. not_found when not registered.
    /// </summary>
    Task<Outcome<string[]>> LinkContact(string contactId);

    /// <summary>Every conversation the visitor had, oldest first (a contact lists its visitors' conversations).</summary>
    [AlwaysInterleave]
    Task<string[]> ListConversations();

    /// <summary>Deletes the visitor's state (profile, conversation links) for a contact's erasure; true when there was one. Idempotent.</summary>
    Task<bool> ErasePersonalData();
}

[GenerateSerializer, Immutable]
public sealed record VisitorProfile(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? Email,
    [property: Id(2)] string Inbox,
    [property: Id(3)] Dictionary<string, string> Attributes,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] string? ContactId = null);

/// <summary>An agent, keyed "{tenant}/{agentId}" (the agent id is its user name).</summary>
public interface IAgentGrain : IGrainWithStringKey, IConnectedParticipant
{
    Task<Outcome<AgentProfile>> Create(AgentProfile profile, string passwordHash);

    Task SetPasswordHash(string passwordHash);

    [AlwaysInterleave]
    Task<AgentProfile?> GetProfile();

    [AlwaysInterleave]
    Task<AgentCredentials?> GetCredentials();

    Task<Outcome<JoinResult>> Join(string conversationId);

    /// <summary>Display name, role, capacity, password hash or active (null = unchanged); re-registers with the tenant.</summary>
    Task<Outcome<AgentProfile>> Update(AgentUpdate update);

    /// <summary>The agent's chosen status (online or away); offline is never chosen, it follows from the connections.</summary>
    Task<Outcome<AgentStatus>> SetStatus(AgentStatus status);

    /// <summary>Offline when no connection is alive, else the chosen status.</summary>
    [AlwaysInterleave]
    Task<AgentStatus> GetStatus();

    /// <summary>What a token of this agent is checked against on every request; null when the agent does not exist.</summary>
    [AlwaysInterleave]
    Task<AgentSession?> GetSession();

    /// <summary>Bumps the token version (every token issued before is refused) and closes the agent's sockets.</summary>
    Task<long> EndSessions();

    /// <summary>Deactivates the agent for good and takes it out of the tenant's lists; its id stays taken.</summary>
    Task<Outcome<bool>> Delete();

    /// <summary>
    /// From the agent roster sink: a conversation the agent is in is active (not resolved) as of the conversation's
    /// event <paramref name="seq"/>, so the agent's presence changes go to it.
    /// </summary>
    [OneWay]
    Task ConversationActive(string conversationId, long seq);

    /// <summary>
    /// From the agent roster sink: the conversation was resolved, or the agent let go of it (a transfer), as of event
    /// <paramref name="seq"/>; the agent's presence changes no longer wake it.
    /// </summary>
    [OneWay]
    Task ConversationInactive(string conversationId, long seq);

    /// <summary>The conversations the agent's presence changes go to (its active ones).</summary>
    [AlwaysInterleave]
    Task<string[]> GetActiveConversations();

    /// <summary>The agent's own settings (language, email notifications); defaults when never set, null when the agent does not exist.</summary>
    [AlwaysInterleave]
    Task<AgentPreferences?> GetPreferences();

    /// <summary>Replaces the agent's settings (validated by the caller with <see cref="AgentPreferences.Validate"/>).</summary>
    Task<Outcome<AgentPreferences>> SetPreferences(AgentPreferences preferences);

    /// <summary>
    /// From the agent's <see cref="IAgentAvatarGrain"/>: the version of its picture (null: none, initials are shown), kept
    /// on the profile so agent lists can link the picture without asking every avatar grain.
    /// </summary>
    Task<Outcome<AgentProfile>> SetAvatar(string? version);
}

/// <summary>
/// What an agent chooses for itself (issue #18): the console's language (null: the browser's), where and whether it is
/// told by email about new, assigned and transferred conversations (and mentions) while it has no console open.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AgentPreferences(
    [property: Id(0)] string? Language = null,
    [property: Id(1)] string? Email = null,
    [property: Id(2)] bool EmailNotifications = false,
    [property: Id(3)] string? TimeZone = null)
{
    public const int MaxEmailLength = 254;

    /// <summary>The console languages; a preference outside this list is refused.</summary>
    public static readonly string[] Languages = ["en", "zh"];

    public static readonly AgentPreferences Default = new();

    /// <summary>A reason the preferences cannot be kept, or null when they are fine.</summary>
    public string? Validate()
    {
        if (Language is not null && Array.IndexOf(Languages, Language) < 0)
        {
            return "language must be 'en' or 'zh' (or null for the browser's language).";
        }

        if (Email is not null && !IsEmailAddress(Email))
        {
            return $"email must be an address like name@example.com (at most {MaxEmailLength} characters).";
        }

        if (EmailNotifications && Email is null)
        {
            return "emailNotifications needs an email address.";
        }

        if (TimeZone is not null && !BusinessHours.IsKnownTimeZone(TimeZone))
        {
            return "timeZone must be an IANA time zone such as Asia/Shanghai.";
        }

        return null;
    }

    /// <summary>One '@' with something on both sides, a dot in the domain, no spaces or angle brackets: a sanity check, not RFC 5322.</summary>
    public static bool IsEmailAddress(string? value) =>
        value is { Length: > 2 and <= MaxEmailLength }
        && value.IndexOf('@') is var at && at > 0 && at == value.LastIndexOf('@') && at < value.Length - 1
        && value.IndexOf('.', at) > at + 1 && !value.EndsWith('.')
        && value.AsSpan().IndexOfAny(" \t\r\n<>,;\"") < 0;
}

/// <summary>An agent's current token version and whether it may act at all (deactivated or deleted: no).</summary>
[GenerateSerializer, Immutable]
public sealed record AgentSession(
    [property: Id(0)] long TokenVersion,
    [property: Id(1)] bool Active);

[GenerateSerializer, Immutable]
public sealed record AgentUpdate(
    [property: Id(0)] string? DisplayName,
    [property: Id(1)] string? Role,
    [property: Id(2)] int? Capacity,
    [property: Id(3)] string? PasswordHash,
    [property: Id(4)] bool? Active = null);

public static class AgentRoles
{
    public const string Agent = "agent";
    public const string Admin = "admin";

    public static bool IsKnown(string? role) => role is Agent or Admin;
}

[GenerateSerializer, Immutable]
public sealed record AgentProfile(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] string Role,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] int Capacity = AgentProfile.DefaultCapacity,
    [property: Id(5)] bool Deactivated = false,
    [property: Id(6)] string? AvatarVersion = null)
{
    /// <summary>Open conversations an agent holds at once unless configured otherwise.</summary>
    public const int DefaultCapacity = 5;

    public bool IsAdmin => Role == AgentRoles.Admin;
}

[GenerateSerializer, Immutable]
public sealed record AgentCredentials(
    [property: Id(0)] AgentProfile Profile,
    [property: Id(1)] string PasswordHash,
    [property: Id(2)] long TokenVersion = 0);
