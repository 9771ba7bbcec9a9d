using System.Globalization;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Gateway.Api;

public sealed record UpdateAgentRequest(string? DisplayName, string? Role, int? Capacity, string? Password, bool? Active = null);

public sealed record AgentStatusRequest(string? Status);

/// <summary>An agent's own settings: console language (en, zh, null = the browser's), email notifications, time zone.</summary>
public sealed record AgentPreferencesDto(string? Language, string? Email, bool? EmailNotifications, string? TimeZone)
{
    public static AgentPreferencesDto From(AgentPreferences p) => new(p.Language, p.Email, p.EmailNotifications, p.TimeZone);
}

public sealed record AgentStatusResponse(string Status);

/// <summary>The calling agent: profile, status, load and unread messages over its open conversations.</summary>
public sealed record MeResponse(
    string AgentId, string DisplayName, string Role, DateTime CreatedAt, int Capacity, string Status, int OpenConversations, long Unread,
    string? AvatarUrl = null);

public sealed record TeamRequest(string? Name, string[]? AgentIds);

public sealed record TeamDto(string TeamId, string Name, string[] AgentIds)
{
    public static TeamDto From(TeamConfig t) => new(t.TeamId, t.Name, t.AgentIds);
}

public sealed record TeamListResponse(TeamDto[] Teams);

public sealed record BusinessDayDto(string? Day, string? Open, string? Close);

public sealed record BusinessHoursDto(string? TimeZone, BusinessDayDto[]? Days);

public sealed record InboxRequest(
    string? Name, string? AssignmentPolicy, int? MaxOpen, string[]? Teams, BusinessHoursDto? BusinessHours,
    string? AwayMessage, string? Greeting, bool? PreChatForm, InboxAppearanceDto? Appearance = null, InboxEmailDto? Email = null);

/// <summary>An inbox's email settings (docs/email.md): mail the transcript to the visitor when a conversation is resolved.</summary>
public sealed record InboxEmailDto(bool TranscriptOnResolve)
{
    public static InboxEmailDto? From(InboxEmailSettings? settings) => settings is null ? null : new(settings.TranscriptOnResolve);

    public InboxEmailSettings ToSettings() => new(TranscriptOnResolve);
}

public sealed record InboxDto(
    string InboxId, string Name, string PublicKey, string AssignmentPolicy, int? MaxOpen, string[] Teams,
    BusinessHoursDto? BusinessHours, string? AwayMessage, string? Greeting, bool PreChatForm, string? IdentitySecret = null,
    InboxAppearanceDto? Appearance = null, InboxEmailDto? Email = null)
{
    /// <summary>The identity secret (widget identification) is shown to admins only: with it anyone can claim any customer.</summary>
    public static InboxDto From(InboxConfig i, bool withSecret = false) =>
        new(i.InboxId, i.Name, i.PublicKey, i.AssignmentPolicy, i.MaxOpen, i.Teams, BusinessHoursJson.ToDto(i.BusinessHours),
            i.AwayMessage, i.Greeting, i.PreChatForm, withSecret ? i.IdentitySecret : null, InboxAppearanceDto.From(i.Appearance),
            InboxEmailDto.From(i.Email));
}

public sealed record InboxListResponse(InboxDto[] Inboxes);

public sealed record CannedReplyRequest(string? Shortcut, string? Text);

public sealed record CannedReplyDto(string Id, string Shortcut, string Text)
{
    public static CannedReplyDto From(CannedReply r) => new(r.Id, r.Shortcut, r.Text);
}

public sealed record CannedReplyListResponse(CannedReplyDto[] CannedReplies);

public sealed record WidgetResponse(
    string Tenant, string InboxId, string Name, bool Available, bool WithinBusinessHours, bool AgentsOnline,
    string? AwayMessage, string? Greeting, bool PreChatForm, WidgetAppearanceDto? Appearance = null, DateTimeOffset? NextOpening = null,
    string? TimeZone = null);

/// <summary>An inbox's widget look (issue #18): colour "#rrggbb", header title, launcher corner; absent fields are the widget's defaults.</summary>
public sealed record InboxAppearanceDto(string? Color, string? Title, string? Position)
{
    public static InboxAppearanceDto? From(InboxAppearance? a) => a is null ? null : new(a.Color, a.Title, a.Position);

    public InboxAppearance ToConfig() => new(Color, Title, Position);
}

/// <summary>What the widget applies: the appearance plus the text colour that contrasts with the colour.</summary>
public sealed record WidgetAppearanceDto(string? Color, string? TextColor, string? Title, string Position)
{
    public static WidgetAppearanceDto? From(InboxAppearance? a) => a is null
        ? null
        : new(a.Color, a.Color is { } c ? Kefu.Grains.Tenants.InboxAppearanceRules.TextOn(c) : null, a.Title, a.Position ?? InboxAppearance.BottomRight);
}

public sealed record LeaveMessageRequest(string? Name, string? Email, string? Text, string? Locale = null);

/// <summary>The token lets the widget come back to the conversation (and the agent's reply) like any visitor.</summary>
public sealed record LeaveMessageResponse(string ConversationId, string VisitorId, string Token, DateTimeOffset ExpiresAt);

/// <summary>Business hours as JSON: day names ("monday"), times "HH:mm" ("24:00" closes at midnight).</summary>
public static class BusinessHoursJson
{
    private const string Midnight = "24:00";

    public static BusinessHoursDto? ToDto(BusinessHours? hours) =>
        hours is null
            ? null
            : new BusinessHoursDto(hours.TimeZone, [.. hours.Days.Select(d => new BusinessDayDto(DayName(d.Day), Time(d.Open), Time(d.Close)))]);

    /// <summary>Parses the JSON form; the tenant grain checks the rest (time zone, open before close).</summary>
    public static Outcome<BusinessHours> Parse(BusinessHoursDto dto)
    {
        if (string.IsNullOrWhiteSpace(dto.TimeZone))
        {
            return KefuError.Invalid("businessHours.timeZone is required (an IANA name such as 'Europe/Paris').");
        }

        var days = new List<BusinessDay>();
        foreach (var day in dto.Days ?? [])
        {
            if (day is null || !TryDay(day.Day, out var dayOfWeek))
            {
                return KefuError.Invalid("businessHours.days[].day must be a day name: monday … sunday.");
            }

            if (!TryTime(day.Open, allowMidnight: false, out var open) || !TryTime(day.Close, allowMidnight: true, out var close))
            {
                return KefuError.Invalid("businessHours.days[].open and close must be times 'HH:mm' (close may be '24:00').");
            }

            days.Add(new BusinessDay(dayOfWeek, open, close));
        }

        return new BusinessHours(dto.TimeZone, [.. days]);
    }

    private static string DayName(DayOfWeek day) => day.ToString().ToLowerInvariant();

    private static string Time(TimeOnly time) =>
        time == TimeOnly.MaxValue ? Midnight : time.ToString("HH:mm", CultureInfo.InvariantCulture);

    private static bool TryDay(string? name, out DayOfWeek day)
    {
        foreach (var candidate in Enum.GetValues<DayOfWeek>())
        {
            if (DayName(candidate) == name)
            {
                day = candidate;
                return true;
            }
        }

        day = default;
        return false;
    }

    private static bool TryTime(string? value, bool allowMidnight, out TimeOnly time)
    {
        if (allowMidnight && value == Midnight)
        {
            time = TimeOnly.MaxValue;
            return true;
        }

        return TimeOnly.TryParseExact(value, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }
}
