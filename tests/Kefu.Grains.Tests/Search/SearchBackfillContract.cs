using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;

namespace Kefu.Grains.Tests.Search;

/// <summary>
/// The search backfill (<see cref="SearchBackfill"/>) over a message store, a directory and an index: in memory here,
/// on MariaDB in Kefu.Storage.Tests (which links this file). Messages are written straight into the store, as if their
/// events were pruned long ago. Each test uses a tenant of its own.
/// </summary>
public abstract class SearchBackfillContract
{
    private static readonly DateTimeOffset T0 = new(2026, 10, 5, 8, 0, 0, TimeSpan.Zero);

    protected abstract ISearchIndex Index { get; }

    protected abstract IConversationDirectory Directory { get; }

    protected abstract IMessageStore Store { get; }

    protected abstract ISearchBackfillSource Source { get; }

    [Fact]
    public async Task Messages_only_in_the_store_become_searchable_as_the_live_indexer_would_have_made_them()
    {
        var tenant = NewTenant();
        var a = await ConversationAsync(tenant, T0);
        var b = await ConversationAsync(tenant, T0.AddMinutes(1));
        var empty = await ConversationAsync(tenant, T0.AddMinutes(2));
        await AppendAsync(tenant, a, 1, ParticipantRole.Visitor, "我想申请退款");
        await AppendAsync(tenant, a, 2, ParticipantRole.Agent, "Sure, which order?");
        await AppendAsync(tenant, a, 3, ParticipantRole.Visitor, "receipt.pdf",
            new AttachmentContent("01M8DHP3E3B0RHC0CGQ5V0TJ2B", "application/pdf", "receipt.pdf", 10));
        await AppendAsync(tenant, b, 1, ParticipantRole.Visitor, "退款 again");
        Assert.Empty((await SearchAsync(tenant, "退款")).Results);

        var (steps, read) = await RunAsync(tenant, budget: 2);

        Assert.Equal(4, read);
        Assert.True(steps >= 2, "a budget of 2 takes more than one step");
        Assert.Equal([b, a], Ids(await SearchAsync(tenant, "退款")));
        var hit = Assert.Single(Assert.Single((await SearchAsync(tenant, "order")).Results).Hits);
        Assert.Equal((SearchKinds.Message, 2L, "agent", T0.AddSeconds(2)), (hit.Kind, hit.Seq, hit.SenderRole, hit.At));
        Assert.Equal([a], Ids(await SearchAsync(tenant, "receipt")));
        Assert.Equal([b], Ids(await SearchAsync(tenant, "again"))); // and the conversation without messages is walked past
    }

    [Fact]
    public async Task A_message_the_live_indexer_has_and_a_second_run_stay_one_document_each()
    {
        var tenant = NewTenant();
        var a = await ConversationAsync(tenant, T0);
        var first = await AppendAsync(tenant, a, 1, ParticipantRole.Visitor, "apple pie");
        await AppendAsync(tenant, a, 2, ParticipantRole.Agent, "apple crumble");

        // The live path indexed the first message from its event before the backfill came by.
        var stored = new StoredEvent(7, Ulid.NewUlid(), EventTypes.MessageCreated, tenant, a, 9, first.Ts, Causation.Of("test"), EventJson.Data(new MessageCreated(first)));
        await Index.AddAsync([SearchIndexerGrain.Document(stored)!]);
        Assert.Equal(SearchBackfill.Document(tenant, a, first), SearchIndexerGrain.Document(stored));

        await RunAsync(tenant, budget: 500);
        await RunAsync(tenant, budget: 1);

        var hits = Assert.Single((await SearchAsync(tenant, "apple")).Results).Hits;
        Assert.Equal([2L, 1L], hits.Select(h => h.Seq));
    }

    [Fact]
    public async Task A_walk_continues_from_its_position_and_reads_no_message_twice()
    {
        var tenant = NewTenant();
        var ids = new List<string>();
        for (var c = 0; c < 3; c++)
        {
            var id = await ConversationAsync(tenant, T0.AddMinutes(c));
            ids.Add(id);
            for (var seq = 1; seq <= 3; seq++)
            {
                await AppendAsync(tenant, id, seq, ParticipantRole.Visitor, $"word{c}x{seq} common");
            }
        }

        // A fresh instance per step: the position is all that carries over (what a grain keeps in its state).
        var position = SearchBackfillPosition.Start;
        var read = 0;
        for (var i = 0; i < 20; i++)
        {
            var step = await new SearchBackfill(Source, Store, Index).StepAsync(tenant, position, budget: 2);
            read += step.Messages;
            position = step.Next;
            if (step.Done)
            {
                break;
            }
        }

        Assert.Equal(9, read);
        Assert.Equal(ids.AsEnumerable().Reverse(), Ids(await SearchAsync(tenant, "common")));
        Assert.Equal([ids[1]], Ids(await SearchAsync(tenant, "word1x3")));
    }

    [Fact]
    public async Task Erased_and_pruned_messages_are_not_brought_back()
    {
        var tenant = NewTenant();
        var erased = await ConversationAsync(tenant, T0);
        var pruned = await ConversationAsync(tenant, T0.AddMinutes(1));
        await AppendAsync(tenant, erased, 1, ParticipantRole.Visitor, "secret alpha");
        await AppendAsync(tenant, pruned, 1, ParticipantRole.Visitor, "alpha old", at: T0.AddDays(-400));
        await AppendAsync(tenant, pruned, 2, ParticipantRole.Visitor, "alpha new");
        await Store.DeleteConversationAsync(tenant, erased);
        await Store.PruneAsync(tenant, T0.AddDays(-30), 100);

        await RunAsync(tenant, budget: 500);

        var hit = Assert.Single((await SearchAsync(tenant, "alpha")).Results);
        Assert.Equal(pruned, hit.ConversationId);
        Assert.Equal([2L], hit.Hits.Select(h => h.Seq));
        Assert.Empty((await SearchAsync(tenant, "secret")).Results);
    }

    [Fact]
    public async Task A_conversation_erased_while_the_backfill_indexes_it_leaves_no_rows()
    {
        var tenant = NewTenant();
        var id = await ConversationAsync(tenant, T0);
        await AppendAsync(tenant, id, 1, ParticipantRole.Visitor, "erase me");

        // The erasure runs between the backfill's read and its write: the store first, then the index's rows (the
        // holders' order), both before the backfill adds what it read.
        var store = new ErasingStore(Store, async () =>
        {
            await Store.DeleteConversationAsync(tenant, id);
            await Index.DeleteConversationsAsync(tenant, [id]);
        });
        var step = await new SearchBackfill(Source, store, Index).StepAsync(tenant, SearchBackfillPosition.Start, budget: 500);

        Assert.Equal(1, step.Messages);
        Assert.Equal(0, step.Indexed);
        Assert.Empty((await SearchAsync(tenant, "erase")).Results);
    }

    protected static string NewTenant() => $"b{Guid.NewGuid():N}"[..14];

    private async Task<(int Steps, int Read)> RunAsync(string tenant, int budget)
    {
        var backfill = new SearchBackfill(Source, Store, Index);
        var position = SearchBackfillPosition.Start;
        var (steps, read) = (0, 0);
        while (steps < 100)
        {
            var step = await backfill.StepAsync(tenant, position, budget);
            (steps, read, position) = (steps + 1, read + step.Messages, step.Next);
            if (step.Done)
            {
                return (steps, read);
            }
        }

        throw new InvalidOperationException("The backfill did not finish in 100 steps.");
    }

    private async Task<string> ConversationAsync(string tenant, DateTimeOffset created)
    {
        var id = Ulid.NewUlid(created).ToString();
        await Directory.UpsertAsync(new ConversationSummary(id, tenant, "default", "v-" + id[^6..], "Ana", ConversationStatus.Open, null, 1, created, [], Tags: []));
        return id;
    }

    private async Task<ChatMessage> AppendAsync(string tenant, string conversationId, long seq, ParticipantRole role, string text, MessageContent? content = null, DateTimeOffset? at = null)
    {
        var ts = at ?? T0.AddSeconds(seq);
        var message = new ChatMessage(conversationId, Ulid.NewUlid(ts), seq, new Sender(role, role == ParticipantRole.Agent ? "ann" : "v1", null), text, ts, null, content);
        await Store.AppendAsync(tenant, message);
        return message;
    }

    private async Task<SearchPage> SearchAsync(string tenant, string text) =>
        await Index.SearchAsync(tenant, new SearchQuery("admin", IsAdmin: true, text, Limit: 20));

    private static string[] Ids(SearchPage page) => [.. page.Results.Select(r => r.ConversationId)];

    /// <summary>A store that runs <paramref name="erase"/> once, right after the first read returned.</summary>
    private sealed class ErasingStore(IMessageStore inner, Func<Task> erase) : IMessageStore
    {
        private bool _erased;

        public ValueTask AppendAsync(string tenant, ChatMessage message, IReadOnlyList<DomainEvent> events, CancellationToken cancellationToken = default) =>
            inner.AppendAsync(tenant, message, events, cancellationToken);

        public async ValueTask<IReadOnlyList<ChatMessage>> ReadAfterAsync(string tenant, string conversationId, long afterSeq, int limit, CancellationToken cancellationToken = default)
        {
            var page = await inner.ReadAfterAsync(tenant, conversationId, afterSeq, limit, cancellationToken);
            if (!_erased)
            {
                _erased = true;
                await erase();
            }

            return page;
        }

        public ValueTask<IReadOnlyList<ChatMessage>> ReadLatestAsync(string tenant, string conversationId, int count, CancellationToken cancellationToken = default) =>
            inner.ReadLatestAsync(tenant, conversationId, count, cancellationToken);

        public ValueTask<int> PruneAsync(string tenant, DateTimeOffset before, int limit, CancellationToken cancellationToken = default) =>
            inner.PruneAsync(tenant, before, limit, cancellationToken);
    }
}
