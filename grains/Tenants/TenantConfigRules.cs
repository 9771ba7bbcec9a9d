using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tenants;

/// <summary>What a tenant's inboxes, teams and canned replies must look like; the tenant grain enforces it.</summary>
public static class TenantConfigRules
{
    public const int MaxNameLength = 100;
    public const int MaxInboxMessageLength = 1000;
    public const int MaxMaxOpen = 100_000;
    public const int MaxShortcutLength = 32;
    public const int MaxCannedTextLength = 4000;
    public const int MaxReplyIdLength = 64;
    public const int MaxInboxes = 200;
    public const int MaxTeams = 200;
    public const int MaxCannedReplies = 1000;
    public const int MaxBusinessDays = 28;

    /// <summary>Checks an inbox against the tenant's teams and returns it normalised (trimmed, de-duplicated), or why not.</summary>
    public static Outcome<InboxConfig> Inbox(InboxConfig inbox, IReadOnlyDictionary<string, TeamConfig> teams)
    {
        if (!Tenancy.IsValidName(inbox.InboxId))
        {
            return KefuError.Invalid("inbox id must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (Name(inbox.Name) is not { } name)
        {
            return KefuError.Invalid($"name must be 1 to {MaxNameLength} characters.");
        }

        if (!AssignmentPolicies.IsKnown(inbox.AssignmentPolicy))
        {
            return KefuError.Invalid("assignmentPolicy must be 'least_busy', 'round_robin' or 'manual'.");
        }

        if (inbox.MaxOpen is < 1 or > MaxMaxOpen)
        {
            return KefuError.Invalid($"maxOpen must be between 1 and {MaxMaxOpen}, or absent for no limit.");
        }

        var inboxTeams = (inbox.Teams ?? []).Distinct(StringComparer.Ordinal).ToArray();
        if (inboxTeams.FirstOrDefault(t => !teams.ContainsKey(t)) is { } unknown)
        {
            return KefuError.Invalid($"team '{unknown}' does not exist.");
        }

        if (inbox.BusinessHours is { } hours && BusinessHoursProblem(hours) is { } problem)
        {
            return KefuError.Invalid(problem);
        }

        if (inbox.AwayMessage is { Length: > MaxInboxMessageLength } || inbox.Greeting is { Length: > MaxInboxMessageLength })
        {
            return KefuError.Invalid($"awayMessage and greeting must be at most {MaxInboxMessageLength} characters.");
        }

        var appearance = InboxAppearanceRules.Check(inbox.Appearance);
        if (appearance.Error is { } badAppearance)
        {
            return badAppearance;
        }

        return inbox with
        {
            Appearance = appearance.Value,
            Name = name,
            Teams = inboxTeams,
            AwayMessage = Blank(inbox.AwayMessage),
            Greeting = Blank(inbox.Greeting),

            // Settings that are all off are no settings: the stored inbox stays as it was before email existed.
            Email = inbox.Email is { TranscriptOnResolve: false } ? null : inbox.Email,
        };
    }

    public static Outcome<TeamConfig> Team(TeamConfig team, IReadOnlyDictionary<string, AgentProfile> agents)
    {
        if (!Tenancy.IsValidName(team.TeamId))
        {
            return KefuError.Invalid("team id must be 1-64 characters: a-z, 0-9, '-', '_', '.'.");
        }

        if (Name(team.Name) is not { } name)
        {
            return KefuError.Invalid($"name must be 1 to {MaxNameLength} characters.");
        }

        var members = (team.AgentIds ?? []).Distinct(StringComparer.Ordinal).ToArray();
        if (members.FirstOrDefault(a => !agents.ContainsKey(a)) is { } unknown)
        {
            return KefuError.Invalid($"agent '{unknown}' does not exist.");
        }

        return team with { Name = name, AgentIds = members };
    }

    public static Outcome<CannedReply> CannedReply(CannedReply reply)
    {
        if (!IsReplyId(reply.Id))
        {
            return KefuError.Invalid($"id must be 1-{MaxReplyIdLength} characters: A-Z, a-z, 0-9, '-', '_'.");
        }

        if (!IsShortcut(reply.Shortcut))
        {
            return KefuError.Invalid($"shortcut must be 1-{MaxShortcutLength} characters: a-z, 0-9, '-', '_'.");
        }

        if (string.IsNullOrWhiteSpace(reply.Text) || reply.Text.Length > MaxCannedTextLength)
        {
            return KefuError.Invalid($"text must be 1 to {MaxCannedTextLength} characters and not blank.");
        }

        return reply;
    }

    public static bool IsShortcut(string? value) =>
        value is { Length: >= 1 and <= MaxShortcutLength } && value.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_');

    public static bool IsReplyId(string? value) =>
        value is { Length: >= 1 and <= MaxReplyIdLength } && value.All(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_');

    private static string? BusinessHoursProblem(BusinessHours hours)
    {
        if (!BusinessHours.IsKnownTimeZone(hours.TimeZone))
        {
            return $"businessHours.timeZone '{hours.TimeZone}' is not a known time zone (use an IANA name such as 'Europe/Paris').";
        }

        if (hours.Days is null || hours.Days.Length > MaxBusinessDays)
        {
            return $"businessHours.days must be a list of at most {MaxBusinessDays} entries.";
        }

        foreach (var day in hours.Days)
        {
            if (day is null || !Enum.IsDefined(day.Day))
            {
                return "businessHours.days: every entry needs a day of the week.";
            }

            if (day.Open >= day.Close)
            {
                return "businessHours.days: open must be before close.";
            }
        }

        return null;
    }

    private static string? Name(string? value) => value?.Trim() is { Length: >= 1 and <= MaxNameLength } trimmed ? trimmed : null;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
