using Kefu.Contracts.Grains;

namespace Kefu.Grains.Reports;

/// <summary>
/// The report rows: one fact per conversation (MySQL <c>kefu_report_conversation</c> in cluster mode, process memory when
/// embedded). Both stores answer a query with the same small aggregates, which <see cref="ReportCalculator"/> turns into
/// the report, so they cannot disagree on percentiles or the backlog.
/// </summary>
public interface IReportStore
{
    /// <summary>
    /// Writes the facts, then the first responses (one batch, <see cref="ReportFactMerge"/>). Idempotent: a fact with an
    /// older <see cref="ReportFact.EventSeq"/> than the stored row changes nothing, a replayed one writes the same row. A
    /// first response of a conversation with no row yet is dropped (its conversation.created event comes first in the log).
    /// </summary>
    ValueTask UpsertAsync(IReadOnlyList<ReportFact> facts, IReadOnlyList<FirstResponse>? firstResponses = null, CancellationToken cancellationToken = default);

    ValueTask<ReportAggregates> AggregateAsync(string tenant, ReportQuery query, CancellationToken cancellationToken = default);
}

/// <summary>Counts per day (days since 1970-01-01 in the query's zone), all groups of the query together.</summary>
public sealed record DayCount(long Day, long Count);

/// <summary>Counts per group and histogram bucket (<see cref="LogHistogram"/>) or rating (1–5).</summary>
public sealed record BucketCount(string Group, int Bucket, long Count);

public sealed record GroupCount(string Group, long Count);

/// <summary>
/// What a report is computed from. Created, first response, resolution and ratings: of the conversations created in the
/// range. Resolved: resolutions in the range. Per group and, for the day table, per day (a grouped report needs no
/// day × group counts, and the rollup keeps those only per dimension). OpenAtStart: created before the range and open at
/// its start (unresolved now, or resolved after the start). Lists hold no zero counts.
/// </summary>
public sealed record ReportAggregates(
    IReadOnlyList<DayCount> CreatedDays,
    IReadOnlyList<DayCount> ResolvedDays,
    IReadOnlyList<GroupCount> Created,
    IReadOnlyList<GroupCount> Resolved,
    IReadOnlyList<BucketCount> FirstResponse,
    IReadOnlyList<BucketCount> Resolution,
    IReadOnlyList<BucketCount> Ratings,
    IReadOnlyList<GroupCount> OpenAtStart);

/// <summary>Day numbers of a query: days since the epoch in its zone.</summary>
public static class ReportDays
{
    public const long SecondsPerDay = 86_400;

    public static long Of(long unixSeconds, int offsetMinutes)
    {
        var local = unixSeconds + (offsetMinutes * 60L);
        return local >= 0 ? local / SecondsPerDay : ((local + 1) / SecondsPerDay) - 1;
    }

    public static DateOnly Date(long day) => DateOnly.FromDayNumber(DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber + (int)day);
}
