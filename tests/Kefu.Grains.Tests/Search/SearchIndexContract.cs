using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Search;

namespace Kefu.Grains.Tests.Search;

/// <summary>
/// What every <see cref="ISearchIndex"/> does, run against the in-memory index (Kefu.Grains.Tests) and the MySQL one
/// (Kefu.Storage.Tests links this file): the same token space, the directory's filters and visibility, paging, erasure and
/// retention. Each test uses a tenant of its own.
/// </summary>
public abstract class SearchIndexContract
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 8, 0, 0, TimeSpan.Zero);

    protected abstract ISearchIndex Index { get; }

    protected abstract IConversationDirectory Directory { get; }

    protected static string NewTenant() => $"s{Guid.NewGuid():N}"[..14];

    [Fact]
    public async Task Chinese_and_english_words_find_their_conversations_newest_first_with_snippets()
    {
        var tenant = NewTenant();
        var a = await ConversationAsync(tenant, T0);
        var b = await ConversationAsync(tenant, T0.AddMinutes(1));
        await AddAsync(tenant, a, 1, T0.AddMinutes(5), "我想申请退款，订单号 12345");
        await AddAsync(tenant, a, 2, T0.AddMinutes(6), "Please refund my order");
        await AddAsync(tenant, b, 1, T0.AddMinutes(7), "退款什么时候到账？");
        await AddAsync(tenant, b, 2, T0.AddMinutes(8), "The parcel arrived broken");

        var refund = await SearchAsync(tenant, "退款");
        Assert.Equal([b, a], refund.Results.Select(r => r.ConversationId));
        Assert.Equal("退款什么时候到账？", Assert.Single(refund.Results[0].Hits).Snippet);
        Assert.Equal(T0.AddMinutes(7), refund.Results[0].LastHitAt);
        Assert.Null(refund.Next);

        Assert.Equal([a], Ids(await SearchAsync(tenant, "REFUND")));
        Assert.Equal([a], Ids(await SearchAsync(tenant, "申请退款")));
        Assert.Equal([a], Ids(await SearchAsync(tenant, "12345 退款"))); // every word, in one message
        Assert.Equal([b, a], Ids(await SearchAsync(tenant, "款")));
        Assert.Equal([a], Ids(await SearchAsync(tenant, "12345")));
        Assert.Empty(Ids(await SearchAsync(tenant, "退款 parcel"))); // the words are in two different messages
        Assert.Empty(Ids(await SearchAsync(tenant, "款退")));
        Assert.Empty(Ids(await SearchAsync(tenant, "nothing")));

        var hit = Assert.Single((await SearchAsync(tenant, "broken")).Results);
        Assert.Equal(("visitor", 2L, SearchKinds.Message), (hit.Hits[0].SenderRole, hit.Hits[0].Seq, hit.Hits[0].Kind));
        Assert.Equal(ConversationStatus.Open, hit.Status);
        Assert.Equal("Ana", hit.VisitorName);
    }

    [Fact]
    public async Task One_tenants_words_never_find_another_tenants_messages()
    {
        var (mine, theirs) = (NewTenant(), NewTenant());
        var a = await ConversationAsync(mine, T0);
        var b = await ConversationAsync(theirs, T0);
        await AddAsync(mine, a, 1, T0, "invoice 发票");
        await AddAsync(theirs, b, 1, T0, "invoice 发票");
        Assert.Equal([a], Ids(await SearchAsync(mine, "invoice")));
        Assert.Equal([b], Ids(await SearchAsync(theirs, "发票")));
        Assert.Empty(Ids(await SearchAsync(NewTenant(), "invoice")));
    }

    [Fact]
    public async Task Filters_combine_with_the_directorys_status_tags_inbox_and_visibility()
    {
        var tenant = NewTenant();
        var open = await ConversationAsync(tenant, T0, assignee: "ann", tags: ["vip"]);
        var resolved = await ConversationAsync(tenant, T0.AddSeconds(1), status: ConversationStatus.Resolved, assignee: "bo", inbox: "sales");
        var joined = await ConversationAsync(tenant, T0.AddSeconds(2), assignee: "bo", agents: ["bo", "ann"]);
        var unassigned = await ConversationAsync(tenant, T0.AddSeconds(3), assignee: null, status: ConversationStatus.Queued);
        foreach (var (id, i) in new[] { open, resolved, joined, unassigned }.Select((id, i) => (id, i)))
        {
            await AddAsync(tenant, id, 1, T0.AddHours(i), "shipping question");
        }

        Assert.Equal([unassigned, joined, resolved, open], Ids(await SearchAsync(tenant, "shipping")));
        Assert.Equal([resolved], Ids(await SearchAsync(tenant, "shipping", q => q with { Status = ConversationStatus.Resolved })));
        Assert.Equal([open], Ids(await SearchAsync(tenant, "shipping", q => q with { Tag = "vip" })));
        Assert.Equal([resolved], Ids(await SearchAsync(tenant, "shipping", q => q with { Inbox = "sales" })));
        Assert.Equal([unassigned, joined, open], Ids(await SearchAsync(tenant, "shipping", q => q with { Inboxes = ["default"] })));
        Assert.Equal([joined, open], Ids(await SearchAsync(tenant, "shipping", q => q with { ConversationIds = [open, joined] })));
        Assert.Equal([joined, resolved], Ids(await SearchAsync(tenant, "shipping", q => q with { From = T0.AddHours(1), To = T0.AddHours(2).AddTicks(10) })));

        // An agent sees what the conversation list shows it: unassigned, its own, and those it joined.
        Assert.Equal([unassigned, joined, open], Ids(await SearchAsync(tenant, "shipping", q => q with { AgentId = "ann", IsAdmin = false })));
        Assert.Equal([unassigned], Ids(await SearchAsync(tenant, "shipping", q => q with { AgentId = "cy", IsAdmin = false })));
    }

    [Fact]
    public async Task Notes_are_found_only_when_asked_for()
    {
        var tenant = NewTenant();
        var id = await ConversationAsync(tenant, T0);
        await Index.AddAsync([new SearchDocument(tenant, id, SearchKinds.Note, 7, T0, "agent", "customer is a reseller 经销商")]);
        Assert.Empty(Ids(await SearchAsync(tenant, "reseller")));
        var note = Assert.Single((await SearchAsync(tenant, "经销商", q => q with { IncludeNotes = true })).Results);
        Assert.Equal((SearchKinds.Note, 7L, "agent"), (note.Hits[0].Kind, note.Hits[0].Seq, note.Hits[0].SenderRole));
    }

    [Fact]
    public async Task Pages_follow_the_cursor_without_gaps_or_repeats_and_show_the_newest_three_hits()
    {
        var tenant = NewTenant();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var id = await ConversationAsync(tenant, T0.AddSeconds(i));
            ids.Add(id);
            // Two conversations share a newest-hit time: the id breaks the tie.
            var at = T0.AddMinutes(i == 3 ? 2 : i);
            for (var seq = 1; seq <= 4; seq++)
            {
                await AddAsync(tenant, id, seq, at.AddTicks(-seq * 10), $"status update {seq}");
            }
        }

        // Added twice (an indexer that read a page again): still one hit.
        await AddAsync(tenant, ids[0], 1, T0.AddTicks(-10), "status update 1");

        var seen = new List<string>();
        SearchPosition? after = null;
        var pages = 0;
        do
        {
            var page = await SearchAsync(tenant, "update", q => q with { Limit = 3, After = after });
            Assert.True(page.Results.Length <= 3);
            Assert.All(page.Results, r => Assert.Equal([1L, 2L, 3L], r.Hits.Select(h => h.Seq)));
            seen.AddRange(Ids(page));
            after = page.Next;
            pages++;
        }
        while (after is not null && pages < 10);

        var expected = ids.Select((id, i) => (id, at: T0.AddMinutes(i == 3 ? 2 : i).AddTicks(-10)))
            .OrderByDescending(x => x.at).ThenByDescending(x => x.id, StringComparer.Ordinal).Select(x => x.id);
        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task Order_and_paging_hold_across_recent_and_old_messages()
    {
        // The MySQL index asks the newest days and months first and widens: a conversation with a hit today and one long
        // ago must come once, first, and one with only old hits after it.
        var tenant = NewTenant();
        var now = SearchText.Micros(DateTimeOffset.UtcNow);
        var both = await ConversationAsync(tenant, now.AddDays(-200));
        var old = await ConversationAsync(tenant, now.AddDays(-100));
        var month = await ConversationAsync(tenant, now.AddDays(-20));
        await AddAsync(tenant, both, 1, now.AddDays(-200), "warranty claim");
        await AddAsync(tenant, old, 1, now.AddDays(-50), "warranty claim");
        await AddAsync(tenant, month, 1, now.AddDays(-20), "warranty claim");
        await AddAsync(tenant, both, 2, now.AddMinutes(-1), "warranty claim again");

        Assert.Equal([both, month, old], Ids(await SearchAsync(tenant, "warranty")));
        var seen = new List<string>();
        SearchPosition? after = null;
        for (var i = 0; i < 5; i++)
        {
            var page = await SearchAsync(tenant, "warranty", q => q with { Limit = 1, After = after });
            seen.AddRange(Ids(page));
            if ((after = page.Next) is null)
            {
                break;
            }
        }

        Assert.Equal([both, month, old], seen);
        Assert.Equal(now.AddMinutes(-1), (await SearchAsync(tenant, "claim")).Results[0].LastHitAt);
        Assert.Equal([old, both], Ids(await SearchAsync(tenant, "warranty", q => q with { To = now.AddDays(-30) })));
    }

    [Fact]
    public async Task Erasure_removes_the_conversations_rows_and_retention_prunes_old_ones_in_chunks()
    {
        var tenant = NewTenant();
        var erased = await ConversationAsync(tenant, T0);
        var kept = await ConversationAsync(tenant, T0.AddSeconds(1));
        for (var seq = 1; seq <= 5; seq++)
        {
            await AddAsync(tenant, erased, seq, T0.AddDays(seq), "secret address");
            await AddAsync(tenant, kept, seq, T0.AddDays(seq), "secret address");
        }

        Assert.Equal(5, await Index.DeleteConversationsAsync(tenant, [erased]));
        Assert.Equal(0, await Index.DeleteConversationsAsync(tenant, [erased])); // idempotent
        Assert.Equal([kept], Ids(await SearchAsync(tenant, "secret")));

        Assert.Equal(2, await Index.PruneAsync(tenant, T0.AddDays(4), 2));
        Assert.Equal(1, await Index.PruneAsync(tenant, T0.AddDays(4), 2));
        Assert.Equal(0, await Index.PruneAsync(tenant, T0.AddDays(4), 2));
        var left = Assert.Single((await SearchAsync(tenant, "address")).Results);
        Assert.Equal([5L, 4L], left.Hits.Select(h => h.Seq));
    }

    protected async Task<string> ConversationAsync(string tenant, DateTimeOffset created, string status = ConversationStatus.Open,
        string? assignee = "ann", string inbox = "default", string[]? tags = null, string[]? agents = null)
    {
        var id = Ulid.NewUlid(created).ToString();
        await Directory.UpsertAsync(new ConversationSummary(id, tenant, inbox, "v-" + id[^6..], "Ana", status, assignee, 1, created,
            agents ?? (assignee is null ? [] : [assignee]), Tags: tags ?? [], AssigneeName: assignee));
        return id;
    }

    protected ValueTask AddAsync(string tenant, string conversationId, long seq, DateTimeOffset at, string text) =>
        Index.AddAsync([new SearchDocument(tenant, conversationId, SearchKinds.Message, seq, at, "visitor", text)]);

    protected async Task<SearchPage> SearchAsync(string tenant, string text, Func<SearchQuery, SearchQuery>? change = null)
    {
        var query = new SearchQuery("admin", IsAdmin: true, text, Limit: 20);
        return await Index.SearchAsync(tenant, change is null ? query : change(query));
    }

    protected static string[] Ids(SearchPage page) => [.. page.Results.Select(r => r.ConversationId)];
}
