using System.Collections.Concurrent;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Reports;

/// <summary>
/// The report rows in process memory (embedded mode): the same rows as the MySQL store (<see cref="ReportFactMerge"/>)
/// and the same aggregates, by scanning the facts — no rollup: an embedded tenant is small, and the scan is the answer the
/// MySQL rollup is tested against.
/// </summary>
public sealed class InMemoryReportStore : IReportStore
{
    private readonly ConcurrentDictionary<(string Tenant, string ConversationId), ReportFact> _facts = new();

    private readonly Lock _write = new();

    public ValueTask UpsertAsync(IReadOnlyList<ReportFact> facts, IReadOnlyList<FirstResponse>? firstResponses = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(facts);
        lock (_write)
        {
            foreach (var fact in facts)
            {
                _facts[(fact.Tenant, fact.ConversationId)] = ReportFactMerge.Merge(_facts.GetValueOrDefault((fact.Tenant, fact.ConversationId)), fact);
            }

            foreach (var response in firstResponses ?? [])
            {
                if (_facts.TryGetValue((response.Tenant, response.ConversationId), out var stored))
                {
                    _facts[(response.Tenant, response.ConversationId)] = ReportFactMerge.Apply(stored, response);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ReportAggregates> AggregateAsync(string tenant, ReportQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var facts = _facts.Values.Where(f => f.Tenant == tenant
            && (query.Agent is null || f.Agent == query.Agent)
            && (query.Team is null || f.Team == query.Team)
            && (query.Inbox is null || f.Inbox == query.Inbox)).ToList();
        return ValueTask.FromResult(Aggregate(facts, query));
    }

    /// <summary>The aggregates of a query over its facts (already filtered): the reference answer.</summary>
    public static ReportAggregates Aggregate(IReadOnlyCollection<ReportFact> facts, ReportQuery query)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(query);
        long from = query.From.ToUnixTimeSeconds(), to = query.To.ToUnixTimeSeconds();
        var inRange = facts.Where(f => f.CreatedS >= from && f.CreatedS < to).ToList();
        var resolvedInRange = facts.Where(f => f.ResolvedS is { } r && r >= from && r < to).ToList();
        string G(ReportFact f) => f.GroupKey(query.GroupBy);
        List<DayCount> Days(IEnumerable<ReportFact> of, Func<ReportFact, long> time) =>
            [.. of.GroupBy(f => ReportDays.Of(time(f), query.OffsetMinutes)).Select(g => new DayCount(g.Key, g.LongCount()))];
        static List<GroupCount> Groups(IEnumerable<IGrouping<string, ReportFact>> groups) =>
            [.. groups.Select(g => new GroupCount(g.Key, g.LongCount()))];
        List<BucketCount> Buckets(Func<ReportFact, int?> bucket) => [.. inRange.Where(f => bucket(f) is not null)
            .GroupBy(f => (Group: G(f), Bucket: bucket(f)!.Value))
            .Select(g => new BucketCount(g.Key.Group, g.Key.Bucket, g.LongCount()))];
        var open = facts.Where(f => f.CreatedS < from && (f.ResolvedS is null || f.ResolvedS >= from)).GroupBy(G);
        return new ReportAggregates(
            Days(inRange, f => f.CreatedS), Days(resolvedInRange, f => f.ResolvedS!.Value), Groups(inRange.GroupBy(G)), Groups(resolvedInRange.GroupBy(G)),
            Buckets(f => f.FirstResponseBucket), Buckets(f => f.ResolutionBucket), Buckets(f => f.Rating), Groups(open));
    }

    /// <summary>The stored fact (tests).</summary>
    public ReportFact? Find(string tenant, string conversationId) => _facts.GetValueOrDefault((tenant, conversationId));
}
