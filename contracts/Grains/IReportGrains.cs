namespace Kefu.Contracts.Grains;

// Reports (issue #20, docs/reports.md): conversation facts projected from the event log into report tables by one
// reader per tenant, and queries over them by a stateless worker, so a report never activates a conversation.

/// <summary>
/// Projects a tenant's conversation.* events into its report rows (one fact row per conversation), after a durable
/// cursor. Started on the first report query, kept alive by a reminder. Key: the tenant.
/// </summary>
public interface IReportProjectorGrain : IGrainWithStringKey
{
    /// <summary>Starts (or keeps) projecting; the first start reads the tenant's log from its beginning.</summary>
    Task Start();

    /// <summary>Events were committed: read now.</summary>
    [OneWay]
    Task Poke();

    /// <summary>Starts if needed and projects what the log holds now (unless a drain is already running, which then takes another pass).</summary>
    Task CatchUp();

    /// <summary>Projects again from <paramref name="cursor"/> (0: everything retained): rows converge to the same values.</summary>
    Task Rewind(long cursor);

    [AlwaysInterleave]
    Task<ReportProjectorStatus> GetStatus();
}

[GenerateSerializer, Immutable]
public sealed record ReportProjectorStatus(
    [property: Id(0)] long Cursor,
    [property: Id(1)] DateTimeOffset? StartedAt,
    [property: Id(2)] long Projected,
    [property: Id(3)] bool CursorExpired);

/// <summary>Answers report queries from the report rows. A stateless worker per tenant (key: the tenant).</summary>
public interface IReportQueryGrain : IGrainWithStringKey
{
    Task<ReportOverview> Overview(ReportQuery query);
}

/// <summary>What a report is grouped by (<see cref="ReportQuery.GroupBy"/>).</summary>
public static class ReportGroupBy
{
    public const string None = "none";
    public const string Agent = "agent";
    public const string Team = "team";
    public const string Inbox = "inbox";

    public static readonly string[] All = [None, Agent, Team, Inbox];
}

/// <summary>The problem codes of the reports API.</summary>
public static class ReportErrorCodes
{
    /// <summary><c>to</c> is not after <c>from</c>, or the range is longer than a year.</summary>
    public const string InvalidRange = "invalid_range";
}

/// <summary>
/// Conversations created in [<see cref="From"/>, <see cref="To"/>) (UTC instants, midnights in the admin's zone), days
/// bucketed at <see cref="OffsetMinutes"/> from UTC; optionally only one agent's, team's or inbox's.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReportQuery(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] int OffsetMinutes,
    [property: Id(3)] string GroupBy,
    [property: Id(4)] string? Agent = null,
    [property: Id(5)] string? Team = null,
    [property: Id(6)] string? Inbox = null);

/// <summary>A duration's distribution: how many, and the median and 90th percentile in seconds (null when none).</summary>
[GenerateSerializer, Immutable]
public sealed record ReportDuration(
    [property: Id(0)] long Count,
    [property: Id(1)] double? MedianSeconds,
    [property: Id(2)] double? P90Seconds);

/// <summary>Ratings 1–5: how many, the average, and how many of each (<see cref="Distribution"/>[0] counts 1s).</summary>
[GenerateSerializer, Immutable]
public sealed record ReportCsat(
    [property: Id(0)] long Count,
    [property: Id(1)] double? Average,
    [property: Id(2)] long[] Distribution);

/// <summary>
/// One group's (or the whole range's) figures: conversations created in the range, resolutions in it, first-response and
/// resolution times and CSAT of the conversations created in it, and the backlog (open) at the end of the range.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReportRow(
    [property: Id(0)] string Key,
    [property: Id(1)] long Conversations,
    [property: Id(2)] long Resolved,
    [property: Id(3)] ReportDuration FirstResponse,
    [property: Id(4)] ReportDuration Resolution,
    [property: Id(5)] ReportCsat Csat,
    [property: Id(6)] long Backlog);

/// <summary>One day in the admin's zone: conversations created, resolved, and open at its end.</summary>
[GenerateSerializer, Immutable]
public sealed record ReportDay(
    [property: Id(0)] DateOnly Date,
    [property: Id(1)] long Conversations,
    [property: Id(2)] long Resolved,
    [property: Id(3)] long Backlog);

[GenerateSerializer, Immutable]
public sealed record ReportOverview(
    [property: Id(0)] ReportQuery Query,
    [property: Id(1)] ReportRow Totals,
    [property: Id(2)] ReportDay[] Days,
    [property: Id(3)] ReportRow[] Groups);
