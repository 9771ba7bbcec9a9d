using Kefu.Contracts.Grains;

namespace Kefu.Grains.Search;

/// <summary>The search API's read side: one index query, no state (like the directory's reader).</summary>
[StatelessWorker]
public sealed class SearchGrain(ISearchIndex index) : Grain, ISearchGrain
{
    public async Task<SearchPage> Search(SearchQuery query) => await index.SearchAsync(this.GetPrimaryKeyString(), query);
}
