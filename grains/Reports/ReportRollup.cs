using Kefu.Contracts.Grains;

namespace Kefu.Grains.Reports;

/// <summary>
/// One counter of <c>kefu_report_rollup</c> (deploy/mysql/016-report-rollups.sql): of dimension <see cref="Dim"/>
/// (<see cref="ReportRollup.None"/>, agent, team, inbox) and key, at a level (<see cref="ReportRollup.Levels"/>) and the
/// UTC period starting at <see cref="PeriodS"/>, the count of a metric (<see cref="ReportRollup.Created"/> …) in a
/// bucket (0 for the plain counts, the histogram bucket, the rating 1–5).
/// </summary>
public readonly record struct RollupKey(char Dim, string Key, int Level, long PeriodS, char Metric, int Bucket);

/// <summary>
/// The hourly rollups (docs/reports.md "Tables"): the counts a report needs, per (dimension, key, period, metric,
/// bucket), kept beside the fact rows as the difference between a conversation's old and new fact. Every counter exists
/// at four nested UTC levels — hour, day, 8 days, 64 days — so a range of whole hours is answered from at most a few
/// dozen periods per key instead of every hour (a year grouped by agent would otherwise read 8 760 hours × 40 agents
/// × hundreds of histogram buckets, more rows than the facts). One row set per dimension, never keyed by (agent, team,
/// inbox) together: that would be about one row per conversation, no compression.
/// </summary>
public static class ReportRollup
{
    public const char None = 'n', AgentDim = 'a', TeamDim = 't', InboxDim = 'i';

    /// <summary>Metrics: conversations by creation period; resolutions by resolution period; first-response and resolution histogram buckets and ratings by creation period.</summary>
    public const char Created = 'c', Resolved = 'r', FirstResponse = 'f', Resolution = 's', Rating = 'q';

    /// <summary>Period lengths in seconds, each a multiple of the one before (and aligned to the epoch), so a range of whole hours splits into whole periods.</summary>
    public static readonly long[] Levels = [3_600, 86_400, 8 * 86_400, 64 * 86_400];

    private static readonly char[] Dims = [None, AgentDim, TeamDim, InboxDim];

    /// <summary>The dimension a grouping reads (<see cref="ReportGroupBy"/>).</summary>
    public static char DimOf(string groupBy) => groupBy switch
    {
        ReportGroupBy.Agent => AgentDim,
        ReportGroupBy.Team => TeamDim,
        ReportGroupBy.Inbox => InboxDim,
        _ => None,
    };

    /// <summary>
    /// Adds the counters <paramref name="fact"/> contributes, times <paramref name="sign"/>, to <paramref name="into"/>
    /// (zeros removed). Delta(old, new) = Add(new, +1) then Add(old, −1): applying it to the rollup turns old's counts into
    /// new's, whatever changed (agent, team, resolution, rating, first response).
    /// </summary>
    public static void Add(Dictionary<RollupKey, long> into, ReportFact? fact, int sign)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (fact is null)
        {
            return;
        }

        foreach (var dim in Dims)
        {
            var key = dim switch { AgentDim => fact.Agent, TeamDim => fact.Team, InboxDim => fact.Inbox, _ => "" };
            Count(into, dim, key, fact.CreatedS, Created, 0, sign);
            if (fact.ResolvedS is { } resolved)
            {
                Count(into, dim, key, resolved, Resolved, 0, sign);
            }

            if (fact.FirstResponseBucket is { } frt)
            {
                Count(into, dim, key, fact.CreatedS, FirstResponse, frt, sign);
            }

            if (fact.ResolutionBucket is { } res)
            {
                Count(into, dim, key, fact.CreatedS, Resolution, res, sign);
            }

            if (fact.Rating is { } rating)
            {
                Count(into, dim, key, fact.CreatedS, Rating, rating, sign);
            }
        }
    }

    /// <summary>The counter changes that turn <paramref name="before"/> into <paramref name="after"/> (either may be null).</summary>
    public static Dictionary<RollupKey, long> Delta(ReportFact? before, ReportFact? after)
    {
        var delta = new Dictionary<RollupKey, long>();
        Add(delta, after, +1);
        Add(delta, before, -1);
        return delta;
    }

    private static void Count(Dictionary<RollupKey, long> into, char dim, string key, long seconds, char metric, int bucket, int sign)
    {
        for (var level = 0; level < Levels.Length; level++)
        {
            var k = new RollupKey(dim, key, level, Floor(seconds, Levels[level]), metric, bucket);
            var n = into.GetValueOrDefault(k) + sign;
            if (n == 0)
            {
                into.Remove(k);
            }
            else
            {
                into[k] = n;
            }
        }
    }

    public static long Floor(long seconds, long size) => seconds >= 0 ? seconds / size * size : ((seconds + 1) / size * size) - size;

    /// <summary>
    /// Splits [<paramref name="from"/>, <paramref name="to"/>) — both whole UTC hours — into the fewest periods of the
    /// levels: whole top-level periods in the middle, smaller ones towards the edges. Each result is (level, first period
    /// start, end): the periods of that level starting in [start, end).
    /// </summary>
    public static List<(int Level, long Start, long End)> Split(long from, long to)
    {
        if (from % Levels[0] != 0 || to % Levels[0] != 0)
        {
            throw new ArgumentException("A rollup range starts and ends on whole hours.", nameof(from));
        }

        var pieces = new List<(int, long, long)>();
        Split(from, to, Levels.Length - 1, pieces);
        return pieces;
    }

    private static void Split(long from, long to, int level, List<(int, long, long)> pieces)
    {
        if (from >= to)
        {
            return;
        }

        var size = Levels[level];
        var first = -Floor(-from, size); // ceiling
        var last = Floor(to, size);
        if (level == 0 || first >= last)
        {
            if (level == 0)
            {
                pieces.Add((0, from, to));
            }
            else
            {
                Split(from, to, level - 1, pieces); // no whole period of this level inside
            }

            return;
        }

        Split(from, first, level - 1, pieces);
        pieces.Add((level, first, last));
        Split(last, to, level - 1, pieces);
    }

    /// <summary>
    /// Whether a query can be answered from the rollup: its range in whole hours (an offset of whole hours: a :30 or :45
    /// zone's days start mid-hour, so those fall back to the fact rows), and at most one filter, on the grouping's
    /// dimension when it is grouped (the rollup has no (agent, team) pairs). The dimension and key to read, or null.
    /// </summary>
    public static (char Dim, string? Key)? Plan(ReportQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.From.ToUnixTimeSeconds() % Levels[0] != 0 || query.To.ToUnixTimeSeconds() % Levels[0] != 0)
        {
            return null;
        }

        var filters = new List<(char Dim, string Key)>();
        if (query.Agent is not null)
        {
            filters.Add((AgentDim, query.Agent));
        }

        if (query.Team is not null)
        {
            filters.Add((TeamDim, query.Team));
        }

        if (query.Inbox is not null)
        {
            filters.Add((InboxDim, query.Inbox));
        }

        var group = DimOf(query.GroupBy);
        return filters.Count switch
        {
            0 => (group, group == None ? "" : null),
            1 when group == None || group == filters[0].Dim => (filters[0].Dim, filters[0].Key),
            _ => null,
        };
    }
}
