using System.Collections.Concurrent;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Reports;

/// <summary>The report rows in process memory (embedded mode): the same aggregates as the MySQL store, by scanning.</summary>
public sealed class InMemoryReportStore : IReportStore
{
    private readonly ConcurrentDictionary<(string Tenant, string ConversationId), ReportFact> _facts = new();

    public ValueTask UpsertAsync(IReadOnlyList<ReportFact> facts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        foreach (var fact in facts)
        {
            _facts.AddOrUpdate((fact.Tenant, fact.ConversationId), fact, (_, stored) => fact.EventSeq >= stored.EventSeq ? fact : stored);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ReportAggregates> AggregateAsync(string tenant, ReportQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        long from = query.From.ToUnixTimeSeconds(), to = query.To.ToUnixTimeSeconds();
        var facts = _facts.Values.Where(f => f.Tenant == tenant
            && (query.Agent is null || f.Agent == query.Agent)
            && (query.Team is null || f.Team == query.Team)
            && (query.Inbox is null || f.Inbox == query.Inbox)).ToList();
        var inRange = facts.Where(f => f.CreatedS >= from && f.CreatedS < to).ToList();
        string G(ReportFact f) => f.GroupKey(query.GroupBy);

        var created = inRange.GroupBy(f => (Day: ReportDays.Of(f.CreatedS, query.OffsetMinutes), Group: G(f)))
            .Select(g => new DayCount(g.Key.Day, g.Key.Group, g.LongCount())).ToList();
        var resolved = facts.Where(f => f.ResolvedS is { } r && r >= from && r < to)
            .GroupBy(f => (Day: ReportDays.Of(f.ResolvedS!.Value, query.OffsetMinutes), Group: G(f)))
            .Select(g => new DayCount(g.Key.Day, g.Key.Group, g.LongCount())).ToList();
        List<BucketCount> Buckets(Func<ReportFact, int?> bucket) => [.. inRange.Where(f => bucket(f) is not null)
            .GroupBy(f => (Group: G(f), Bucket: bucket(f)!.Value))
            .Select(g => new BucketCount(g.Key.Group, g.Key.Bucket, g.LongCount()))];
        var open = facts.Where(f => f.CreatedS < from && (f.ResolvedS is null || f.ResolvedS >= from))
            .GroupBy(G).Select(g => new GroupCount(g.Key, g.LongCount())).ToList();
        return ValueTask.FromResult(new ReportAggregates(created, resolved, Buckets(f => f.FirstResponseBucket), Buckets(f => f.ResolutionBucket),
            Buckets(f => f.Rating), open));
    }

    /// <summary>The stored fact (tests).</summary>
    public ReportFact? Find(string tenant, string conversationId) => _facts.GetValueOrDefault((tenant, conversationId));
}
