using Kefu.Contracts.Grains;

namespace Kefu.Grains.Reports;

/// <summary>Turns a store's aggregates into the report: per group, the totals, and the days with their backlog.</summary>
public static class ReportCalculator
{
    public static ReportOverview Build(ReportQuery query, ReportAggregates a)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(a);
        var groups = a.Created.Select(c => c.Group).Concat(a.Resolved.Select(r => r.Group)).Concat(a.OpenAtStart.Select(o => o.Group))
            .Distinct(StringComparer.Ordinal).ToList();
        var rows = groups.Select(g => Row(g, a, x => x == g))
            .OrderByDescending(r => r.Conversations).ThenBy(r => r.Key, StringComparer.Ordinal).ToArray();
        var totals = Row("", a, _ => true);

        var firstDay = ReportDays.Of(query.From.ToUnixTimeSeconds(), query.OffsetMinutes);
        var endDay = ReportDays.Of(query.To.ToUnixTimeSeconds() - 1, query.OffsetMinutes);
        var created = a.CreatedDays.GroupBy(c => c.Day).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var resolved = a.ResolvedDays.GroupBy(c => c.Day).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var backlog = a.OpenAtStart.Sum(o => o.Count);
        var days = new List<ReportDay>();
        for (var day = firstDay; day <= endDay; day++)
        {
            var c = created.GetValueOrDefault(day);
            var r = resolved.GetValueOrDefault(day);
            backlog += c - r;
            days.Add(new ReportDay(ReportDays.Date(day), c, r, backlog));
        }

        return new ReportOverview(query, totals, [.. days], query.GroupBy == ReportGroupBy.None ? [] : rows);
    }

    private static ReportRow Row(string key, ReportAggregates a, Func<string, bool> member)
    {
        var conversations = a.Created.Where(c => member(c.Group)).Sum(c => c.Count);
        var resolved = a.Resolved.Where(c => member(c.Group)).Sum(c => c.Count);
        var open = a.OpenAtStart.Where(c => member(c.Group)).Sum(c => c.Count);
        var distribution = new long[5];
        foreach (var r in a.Ratings.Where(r => member(r.Group) && r.Bucket is >= 1 and <= 5))
        {
            distribution[r.Bucket - 1] += r.Count;
        }

        var rated = distribution.Sum();
        double? average = rated == 0 ? null : Math.Round(distribution.Select((n, i) => n * (i + 1.0)).Sum() / rated, 2);
        return new ReportRow(key, conversations, resolved, Duration(a.FirstResponse, member), Duration(a.Resolution, member),
            new ReportCsat(rated, average, distribution), open + conversations - resolved);
    }

    private static ReportDuration Duration(IReadOnlyList<BucketCount> buckets, Func<string, bool> member)
    {
        var counts = buckets.Where(b => member(b.Group)).GroupBy(b => b.Bucket).Select(g => (g.Key, g.Sum(b => b.Count))).ToList();
        return new ReportDuration(counts.Sum(c => c.Item2), LogHistogram.Percentile(counts, 0.5), LogHistogram.Percentile(counts, 0.9));
    }
}
