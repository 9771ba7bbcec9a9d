using System.Globalization;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;
using Kefu.Grains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Kefu.Grains.Tests.Search;

/// <summary>A silo whose search backfill takes two messages per step, so a run has many steps to interrupt.</summary>
public sealed class SearchBackfillClusterFixture : IAsyncLifetime
{
    public const int BatchSize = 2;

    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public T Service<T>() where T : notnull => Cluster.Silos[0].ServiceProvider.GetRequiredService<T>();

    public async Task InitializeAsync() => _cluster = await KefuTestCluster.StartAsync(new Dictionary<string, string?>
    {
        [$"{SearchOptions.Section}:{nameof(SearchOptions.BackfillBatchSize)}"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        [$"{SearchOptions.Section}:{nameof(SearchOptions.BackfillPause)}"] = "00:00:00.050",
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// The backfill grain (docs/search.md "Backfill") on a silo: history that exists only in the message store (its events
/// long pruned) becomes searchable, the indexer starts the backfill once per tenant, an admin's re-run adds nothing twice,
/// and the position survives a deactivation.
/// </summary>
public sealed class SearchBackfillGrainTests(SearchBackfillClusterFixture fixture) : IClassFixture<SearchBackfillClusterFixture>
{
    private static readonly DateTimeOffset T0 = new(2026, 9, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_indexer_starts_the_backfill_once_and_old_history_becomes_searchable()
    {
        var tenant = Scenario.NewTenant();
        var a = await HistoryAsync(tenant, 0, messages: 3, "invoice");
        var b = await HistoryAsync(tenant, 1, messages: 2, "发票");
        var search = fixture.Cluster.Client.GetGrain<ISearchGrain>(tenant);
        Assert.Empty((await search.Search(Query("invoice"))).Results);

        await fixture.Cluster.Client.GetGrain<ISearchIndexerGrain>(tenant).Start();
        var backfill = fixture.Cluster.Client.GetGrain<ISearchBackfillGrain>(tenant);
        var done = await DoneAsync(backfill, runs: 1);

        Assert.Equal((2L, 5L, 5L), (done.Conversations, done.Messages, done.Indexed));
        Assert.NotNull(done.CompletedAt);
        Assert.Null(done.Position);
        Assert.Equal([a], (await search.Search(Query("invoice"))).Results.Select(r => r.ConversationId));
        Assert.Equal([b], (await search.Search(Query("发票"))).Results.Select(r => r.ConversationId));

        // A later start of the indexer (another silo's first message, a restart) does not run it again.
        await fixture.Cluster.Client.GetGrain<ISearchIndexerGrain>(tenant).Start();
        Assert.Equal(1, (await backfill.StartIfNew()).Runs);
    }

    [Fact]
    public async Task An_admins_second_run_indexes_nothing_twice()
    {
        var tenant = Scenario.NewTenant();
        var a = await HistoryAsync(tenant, 0, messages: 20, "parcel"); // ten steps: the second run is still on when asked again
        var backfill = fixture.Cluster.Client.GetGrain<ISearchBackfillGrain>(tenant);
        await backfill.Start();
        await DoneAsync(backfill, runs: 1);

        var again = await backfill.Start();
        Assert.Equal(SearchBackfillStates.Running, again.State);
        Assert.Equal(2, (await backfill.Start()).Runs); // asked again while running: the same run
        var second = await DoneAsync(backfill, runs: 2);

        Assert.Equal(20, second.Messages);
        var result = Assert.Single((await fixture.Cluster.Client.GetGrain<ISearchGrain>(tenant).Search(Query("parcel"))).Results);
        Assert.Equal(a, result.ConversationId);
        Assert.Equal([20L, 19L, 18L], result.Hits.Select(h => h.Seq));
    }

    [Fact]
    public async Task A_deactivated_run_continues_from_its_stored_position()
    {
        var tenant = Scenario.NewTenant();
        const int conversations = 4, each = 15;
        for (var c = 0; c < conversations; c++)
        {
            await HistoryAsync(tenant, c, each, "shipping");
        }

        var backfill = fixture.Cluster.Client.GetGrain<ISearchBackfillGrain>(tenant);
        await backfill.Start();
        var midway = await Scenario.EventuallyAsync(backfill.GetStatus, s => s.Messages >= 4 * SearchBackfillClusterFixture.BatchSize, "a few steps");
        await fixture.Cluster.DeactivateAsync(backfill);

        Assert.Equal(SearchBackfillStates.Running, midway.State);
        Assert.NotNull(midway.Position);
        var done = await DoneAsync(backfill, runs: 1); // the call activates it again: it resumes
        Assert.Equal((conversations, conversations * each), (done.Conversations, done.Messages)); // no message read twice
        Assert.Equal(conversations, (await fixture.Cluster.Client.GetGrain<ISearchGrain>(tenant).Search(Query("shipping"))).Results.Length);
    }

    private static SearchQuery Query(string text) => new("admin", IsAdmin: true, text, Limit: 20);

    private static Task<SearchBackfillStatus> DoneAsync(ISearchBackfillGrain backfill, int runs) =>
        Scenario.EventuallyAsync(backfill.GetStatus, s => s.State == SearchBackfillStates.Done && s.Runs == runs, $"backfill run {runs} to finish", TimeSpan.FromSeconds(30));

    /// <summary>A conversation of <paramref name="messages"/> messages written straight into the store and the directory: no events.</summary>
    private async Task<string> HistoryAsync(string tenant, int n, int messages, string word)
    {
        var created = T0.AddHours(n);
        var id = Ulid.NewUlid(created).ToString();
        await fixture.Service<IConversationDirectory>().UpsertAsync(
            new ConversationSummary(id, tenant, "default", $"v{n}", "Ana", ConversationStatus.Resolved, null, messages, created, [], Tags: []));
        var store = fixture.Service<IMessageStore>();
        for (var seq = 1; seq <= messages; seq++)
        {
            var at = created.AddMinutes(seq);
            await store.AppendAsync(tenant, new ChatMessage(id, Ulid.NewUlid(at), seq, new Sender(ParticipantRole.Visitor, $"v{n}", null), $"{word} question {seq}", at, null));
        }

        return id;
    }
}
