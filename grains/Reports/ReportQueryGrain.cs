using Kefu.Contracts.Grains;
using Orleans.Concurrency;

namespace Kefu.Grains.Reports;

/// <summary>Report queries: any silo answers from the report rows (several activations at once); never a conversation grain.</summary>
[StatelessWorker]
public sealed class ReportQueryGrain(IReportStore store) : Grain, IReportQueryGrain
{
    public async Task<ReportOverview> Overview(ReportQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var aggregates = await store.AggregateAsync(this.GetPrimaryKeyString(), query);
        return ReportCalculator.Build(query, aggregates);
    }
}
