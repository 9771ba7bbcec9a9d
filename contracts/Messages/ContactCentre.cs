namespace Kefu.Contracts.Messages;

/// <summary>Conversation priority: the waiting queue serves higher priorities first, FIFO within one priority.</summary>
public static class ConversationPriority
{
    public const string Low = "low";
    public const string Normal = "normal";
    public const string High = "high";
    public const string Urgent = "urgent";

    public static readonly string[] All = [Low, Normal, High, Urgent];

    public static bool IsKnown(string? value) => value is Low or Normal or High or Urgent;

    /// <summary>Larger is served first.</summary>
    public static int Rank(string? value) => value switch
    {
        Urgent => 3,
        High => 2,
        Low => 0,
        _ => 1,
    };
}

/// <summary>An agent's status: the agent chooses online or away; offline is what the heartbeats say.</summary>
public enum AgentStatus
{
    Offline = 0,
    Online = 1,
    Away = 2,
}

public static class AgentStatusNames
{
    public static string Name(AgentStatus status) => status switch
    {
        AgentStatus.Online => "online",
        AgentStatus.Away => "away",
        _ => "offline",
    };

    /// <summary>The statuses an agent may choose: online and away.</summary>
    public static bool TryParseChosen(string? value, out AgentStatus status)
    {
        status = value switch
        {
            "online" => AgentStatus.Online,
            "away" => AgentStatus.Away,
            _ => AgentStatus.Offline,
        };
        return status != AgentStatus.Offline;
    }
}

public static class AssignmentPolicies
{
    public const string LeastBusy = "least_busy";
    public const string RoundRobin = "round_robin";

    /// <summary>No automatic assignment: conversations wait until an agent takes one (join) or is given one.</summary>
    public const string Manual = "manual";

    public static bool IsKnown(string? value) => value is LeastBusy or RoundRobin or Manual;
}

/// <summary>One day's opening hours in the inbox's time zone; <see cref="Close"/> after <see cref="Open"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record BusinessDay(
    [property: Id(0)] DayOfWeek Day,
    [property: Id(1)] TimeOnly Open,
    [property: Id(2)] TimeOnly Close);

/// <summary>Weekly opening hours in an IANA time zone ("Asia/Shanghai"); days not listed are closed.</summary>
[GenerateSerializer, Immutable]
public sealed record BusinessHours(
    [property: Id(0)] string TimeZone,
    [property: Id(1)] BusinessDay[] Days)
{
    public bool IsOpen(DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(now, TimeZoneInfo.FindSystemTimeZoneById(TimeZone));
        var time = TimeOnly.FromDateTime(local.DateTime);
        foreach (var day in Days)
        {
            if (day.Day == local.DayOfWeek && time >= day.Open && time < day.Close)
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsKnownTimeZone(string? id) => id is not null && TimeZoneInfo.TryFindSystemTimeZoneById(id, out _);

    /// <summary>
    /// When the inbox opens next: <paramref name="now"/> itself while it is open, null when it never opens (no days).
    /// The offset of the answer is the inbox time zone's at that instant, so its clock time is the opening time.
    /// </summary>
    public DateTimeOffset? NextOpening(DateTimeOffset now) => BusinessHoursSchedule.NextOpening(this, now);
}

/// <summary>
/// An inbox: where a website widget's conversations arrive. <see cref="PublicKey"/> is what the widget's script tag
/// carries. <see cref="Teams"/> empty means every agent of the tenant serves it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InboxConfig(
    [property: Id(0)] string InboxId,
    [property: Id(1)] string Name,
    [property: Id(2)] string PublicKey,
    [property: Id(3)] string AssignmentPolicy,
    [property: Id(4)] int? MaxOpen,
    [property: Id(5)] string[] Teams,
    [property: Id(6)] BusinessHours? BusinessHours,
    [property: Id(7)] string? AwayMessage,
    [property: Id(8)] string? Greeting,
    [property: Id(9)] bool PreChatForm,
    [property: Id(10)] string? IdentitySecret = null,
    [property: Id(11)] InboxAppearance? Appearance = null,
    [property: Id(12)] InboxEmailSettings? Email = null);

/// <summary>
/// How an inbox's widget looks (issue #18): its colour ("#rrggbb"; the text on it is chosen for contrast), the title in
/// its header (null: the widget's own "Chat with us" in the visitor's language) and the launcher's corner.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record InboxAppearance(
    [property: Id(0)] string? Color = null,
    [property: Id(1)] string? Title = null,
    [property: Id(2)] string? Position = null)
{
    public const string BottomRight = "bottom-right";
    public const string BottomLeft = "bottom-left";
}

/// <summary>An inbox's email settings (issue #18, docs/email.md): whether a resolved conversation's transcript is mailed to its visitor.</summary>
[GenerateSerializer, Immutable]
public sealed record InboxEmailSettings(
    [property: Id(0)] bool TranscriptOnResolve = false);

[GenerateSerializer, Immutable]
public sealed record TeamConfig(
    [property: Id(0)] string TeamId,
    [property: Id(1)] string Name,
    [property: Id(2)] string[] AgentIds);

/// <summary>A prepared answer an agent inserts by typing "/{Shortcut}".</summary>
[GenerateSerializer, Immutable]
public sealed record CannedReply(
    [property: Id(0)] string Id,
    [property: Id(1)] string Shortcut,
    [property: Id(2)] string Text);

/// <summary>Where an inbox public key points.</summary>
[GenerateSerializer, Immutable]
public sealed record InboxRef(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string InboxId);

/// <summary>An agent-only remark on a conversation: never sent to the visitor, never in the visitor's history.</summary>
[GenerateSerializer, Immutable]
public sealed record InternalNote(
    [property: Id(0)] string NoteId,
    [property: Id(1)] string ConversationId,
    [property: Id(2)] Sender Author,
    [property: Id(3)] string Text,
    [property: Id(4)] DateTimeOffset Ts);

[GenerateSerializer, Immutable]
public sealed record CsatRating(
    [property: Id(0)] int Rating,
    [property: Id(1)] string? Comment,
    [property: Id(2)] DateTimeOffset Ts);

/// <summary>A waiting visitor's place in its queue: 1 is next.</summary>
[GenerateSerializer, Immutable]
public sealed record QueueEvent(
    string ConversationId,
    [property: Id(0)] int Position) : ChatEvent(ConversationId);

/// <summary>A new internal note, pushed to the conversation's agents only.</summary>
[GenerateSerializer, Immutable]
public sealed record NoteEvent([property: Id(0)] InternalNote Note) : ChatEvent(Note.ConversationId);
