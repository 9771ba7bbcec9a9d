using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;

namespace Kefu.Storage.Tests;

/// <summary>MySqlConversationDirectory against a fresh database (deploy/mysql/*.sql applied), checked against the in-memory one.</summary>
public sealed class ConversationDirectoryTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    private MySqlConversationDirectory Directory =>
        new(Options.Create(new MySqlMessageStoreOptions { ConnectionString = database.ConnectionString }));

    [Fact]
    public async Task Upserts_round_trip_and_update_in_place()
    {
        var tenant = NewTenant();
        var id = Ulid.NewUlid().ToString();
        var created = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero).AddTicks(1230);
        var summary = new ConversationSummary(id, tenant, "sales", "v1", "安娜 🙂", ConversationStatus.Open, null, 0, created, []);
        await Directory.UpsertAsync(summary);
        await Directory.UpsertAsync(summary with { AssigneeId = "bob", AgentIds = ["bob", "carol"], LastSeq = 7 });

        var listed = Assert.Single(await Directory.ListAsync(tenant, Query("anyone", admin: true)));
        Assert.Equal(id, listed.ConversationId);
        Assert.Equal(tenant, listed.Tenant);
        Assert.Equal("sales", listed.Inbox);
        Assert.Equal("v1", listed.VisitorId);
        Assert.Equal("安娜 🙂", listed.VisitorName);
        Assert.Equal("bob", listed.AssigneeId);
        Assert.Equal(["bob", "carol"], listed.AgentIds);
        Assert.Equal(7, listed.LastSeq);
        Assert.Equal(created, listed.CreatedAt);

        // A late summary never moves last seq back.
        await Directory.UpsertAsync(summary with { AssigneeId = "bob", AgentIds = ["bob"], LastSeq = 3 });
        Assert.Equal(7, Assert.Single(await Directory.ListAsync(tenant, Query("anyone", admin: true))).LastSeq);
    }

    [Fact]
    public async Task Many_rows_in_one_statement_insert_update_and_never_move_a_newer_row_back()
    {
        var tenant = NewTenant();
        var created = DateTimeOffset.UtcNow;
        var summaries = Enumerable.Range(0, 150)
            .Select(i => new ConversationSummary(Ulid.NewUlid(created.AddSeconds(i)).ToString(), tenant, "default", $"v{i}", $"访客 {i}", ConversationStatus.Open, null, 5, created, [])
                with { Preview = $"p{i}-5" })
            .Reverse() // handed over in no particular order: the store sorts them
            .ToArray();
        await Directory.UpsertManyAsync(summaries);

        // The next batch: some rows newer, one older than what is stored (a late view), plus a new conversation.
        var late = summaries[0] with { LastSeq = 2, Preview = "stale", Status = ConversationStatus.Open };
        var newer = summaries[1] with { LastSeq = 9, Preview = "fresh", AssigneeId = "bob", AgentIds = ["bob"] };
        var added = new ConversationSummary(Ulid.NewUlid().ToString(), tenant, "sales", "v-new", null, ConversationStatus.Queued, null, 1, created, []);
        await Directory.UpsertManyAsync([newer, late, added]);

        var listed = (await Directory.ListAsync(tenant, Query("admin", admin: true, limit: 500))).ToDictionary(c => c.ConversationId);
        Assert.Equal(151, listed.Count);
        Assert.Equal("p149-5", listed[summaries[0].ConversationId].Preview); // the late view did not replace the newer preview
        Assert.Equal(5, listed[summaries[0].ConversationId].LastSeq);
        Assert.Equal(("fresh", 9L, "bob"), (listed[newer.ConversationId].Preview, listed[newer.ConversationId].LastSeq, listed[newer.ConversationId].AssigneeId));
        Assert.Equal(ConversationStatus.Queued, listed[added.ConversationId].Status);
        Assert.All(summaries.Skip(2), s => Assert.Equal(s.Preview, listed[s.ConversationId].Preview));
        Assert.Equal("访客 7", listed[summaries.Single(s => s.VisitorId == "v7").ConversationId].VisitorName);
    }

    [Fact]
    public async Task Listing_filters_by_status_and_visibility_newest_first_like_the_in_memory_directory()
    {
        var tenant = NewTenant();
        var memory = new InMemoryConversationDirectory();
        var summaries = new List<ConversationSummary>();
        string?[] assignees = [null, "bob", "carol", null, "bob", "dave"];
        for (var i = 0; i < assignees.Length; i++)
        {
            var summary = new ConversationSummary(
                Ulid.NewUlid(DateTimeOffset.UtcNow.AddMinutes(i)).ToString(), tenant, "default", $"v{i}", null,
                i == 3 ? ConversationStatus.Resolved : ConversationStatus.Open, assignees[i], i, DateTimeOffset.UtcNow,
                assignees[i] == "dave" ? ["dave", "carol"] : assignees[i] is { } a ? [a] : []);
            summaries.Add(summary);
            await Directory.UpsertAsync(summary);
            await memory.UpsertAsync(summary);
        }

        await Directory.UpsertAsync(summaries[0] with { Tenant = NewTenant() }); // another tenant never shows up

        foreach (var query in new[]
        {
            Query("admin", admin: true), Query("bob", admin: false), Query("carol", admin: false),
            Query("zed", admin: false), Query("admin", admin: true, status: ConversationStatus.Resolved),
            Query("bob", admin: false, status: ConversationStatus.Open), Query("admin", admin: true, limit: 2),
        })
        {
            var fromDb = (await Directory.ListAsync(tenant, query)).Select(c => c.ConversationId).ToArray();
            var fromMemory = (await memory.ListAsync(tenant, query)).Select(c => c.ConversationId).ToArray();
            Assert.Equal(fromMemory, fromDb);
        }

        var carol = (await Directory.ListAsync(tenant, Query("carol", admin: false))).Select(c => c.VisitorId).ToArray();
        Assert.Equal(["v5", "v3", "v2", "v0"], carol); // unassigned, her own, and one she joined; not bob's
        Assert.Equal(2, (await Directory.ListAsync(tenant, Query("admin", admin: true, limit: 2))).Count);
    }

    [Fact]
    public async Task Team_and_priority_round_trip_and_every_filter_matches_the_in_memory_directory()
    {
        var tenant = NewTenant();
        var memory = new InMemoryConversationDirectory();
        (string Inbox, string? Team, string Status, string? Assignee, string Priority)[] rows =
        [
            ("sales", null, ConversationStatus.Queued, null, ConversationPriority.Normal),
            ("sales", "billing", ConversationStatus.Queued, null, ConversationPriority.Urgent),
            ("support", "billing", ConversationStatus.Open, "bob", ConversationPriority.High),
            ("support", null, ConversationStatus.Open, "carol", ConversationPriority.Low),
            ("sales", "vip", ConversationStatus.Pending, "bob", ConversationPriority.Normal),
            ("support", null, ConversationStatus.Resolved, "bob", ConversationPriority.Normal),
        ];
        for (var i = 0; i < rows.Length; i++)
        {
            var (inbox, team, status, assignee, priority) = rows[i];
            var summary = new ConversationSummary(
                Ulid.NewUlid(DateTimeOffset.UtcNow.AddMinutes(i)).ToString(), tenant, inbox, $"v{i}", null, status, assignee, i,
                DateTimeOffset.UtcNow, assignee is { } a ? [a] : [], Team: team, Priority: priority);
            await Directory.UpsertAsync(summary);
            await memory.UpsertAsync(summary);
        }

        var stored = (await Directory.ListAsync(tenant, Query("admin", admin: true))).ToDictionary(c => c.VisitorId);
        Assert.Equal("billing", stored["v1"].Team);
        Assert.Equal(ConversationPriority.Urgent, stored["v1"].Priority);
        Assert.Null(stored["v0"].Team);
        Assert.Equal(ConversationPriority.Low, stored["v3"].Priority);

        ConversationQuery[] queries =
        [
            new("admin", true, null, 100, AssigneeId: "bob"),
            new("admin", true, null, 100, UnassignedOnly: true),
            new("admin", true, null, 100, Team: "billing"),
            new("admin", true, null, 100, Inbox: "sales"),
            new("admin", true, ConversationStatus.Open, 100, Inbox: "support", AssigneeId: "carol"),
            new("admin", true, ConversationStatus.Queued, 100, Team: "billing", UnassignedOnly: true),
            new("carol", false, null, 100, Inbox: "support"),
            new("carol", false, null, 100, AssigneeId: "bob"),
            new("admin", true, null, 100, Team: "nobody"),
        ];
        foreach (var query in queries)
        {
            var fromDb = (await Directory.ListAsync(tenant, query)).Select(c => c.VisitorId).ToArray();
            var fromMemory = (await memory.ListAsync(tenant, query)).Select(c => c.VisitorId).ToArray();
            Assert.Equal(fromMemory, fromDb);
        }

        Assert.Equal(["v5", "v4", "v2"], (await Directory.ListAsync(tenant, queries[0])).Select(c => c.VisitorId));
        // Queued ones first, the longest waiting first; then the others by last activity (here: creation), newest first.
        Assert.Equal(["v0", "v1"], (await Directory.ListAsync(tenant, queries[1])).Select(c => c.VisitorId));
        Assert.Equal(["v1", "v2"], (await Directory.ListAsync(tenant, queries[2])).Select(c => c.VisitorId));
        Assert.Equal(["v0", "v1", "v4"], (await Directory.ListAsync(tenant, queries[3])).Select(c => c.VisitorId));
        Assert.Equal(["v3"], (await Directory.ListAsync(tenant, queries[4])).Select(c => c.VisitorId));
        Assert.Equal(["v1"], (await Directory.ListAsync(tenant, queries[5])).Select(c => c.VisitorId));
        Assert.Equal(["v3"], (await Directory.ListAsync(tenant, queries[6])).Select(c => c.VisitorId)); // not bob's
        Assert.Empty(await Directory.ListAsync(tenant, queries[7]));
        Assert.Empty(await Directory.ListAsync(tenant, queries[8]));

        // A transfer moves a conversation to another team: the row follows.
        await Directory.UpsertAsync(stored["v0"] with { Team = "vip", Priority = ConversationPriority.High });
        var moved = Assert.Single(await Directory.ListAsync(tenant, new ConversationQuery("admin", true, null, 100, Team: "vip", UnassignedOnly: true)));
        Assert.Equal("v0", moved.VisitorId);
        Assert.Equal(ConversationPriority.High, moved.Priority);
    }

    [Fact]
    public async Task Preview_activity_unread_and_names_round_trip_and_order_the_list_like_the_in_memory_directory()
    {
        var tenant = NewTenant();
        var memory = new InMemoryConversationDirectory();
        var t0 = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero).AddTicks(4560);
        var rows = new[]
        {
            Row(tenant, "v0", ConversationStatus.Open, t0, activity: t0.AddMinutes(5)),
            Row(tenant, "v1", ConversationStatus.Queued, t0.AddMinutes(3), queued: t0.AddMinutes(3)),
            Row(tenant, "v2", ConversationStatus.Resolved, t0.AddMinutes(1), activity: t0.AddMinutes(9)),
            Row(tenant, "v3", ConversationStatus.Queued, t0.AddMinutes(4), queued: t0.AddMinutes(2)),
            Row(tenant, "v4", ConversationStatus.Pending, t0.AddMinutes(6)),
        };
        foreach (var row in rows)
        {
            await Directory.UpsertAsync(row);
            await memory.UpsertAsync(row);
        }

        var fromDb = await Directory.ListAsync(tenant, Query("admin", admin: true));
        Assert.Equal(["v3", "v1", "v2", "v4", "v0"], fromDb.Select(c => c.VisitorId));
        Assert.Equal((await memory.ListAsync(tenant, Query("admin", admin: true))).Select(c => c.VisitorId), fromDb.Select(c => c.VisitorId));
        Assert.Equal(["v3", "v1"], (await Directory.ListAsync(tenant, Query("admin", admin: true, limit: 2))).Select(c => c.VisitorId));

        var v0 = fromDb.Single(c => c.VisitorId == "v0");
        Assert.Equal("last words 🙂 " + new string('x', 120), v0.Preview);
        Assert.Equal(t0.AddMinutes(5), v0.LastActivityAt);
        Assert.Equal(3, v0.Unread);
        Assert.Equal("Bob Lee", v0.AssigneeName);
        Assert.Null(v0.QueuedAt);
        Assert.Equal(t0.AddMinutes(2), fromDb.Single(c => c.VisitorId == "v3").QueuedAt);
        Assert.Equal(t0.AddMinutes(6), fromDb.Single(c => c.VisitorId == "v4").LastActivityAt); // none: its creation

        // A late write from an older view of the conversation (lower last seq) never replaces a newer preview.
        await Directory.UpsertAsync(rows[0] with { LastSeq = 2, Preview = "older", Unread = 9 });
        var kept = (await Directory.ListAsync(tenant, Query("admin", admin: true))).Single(c => c.VisitorId == "v0");
        Assert.Equal(v0.Preview, kept.Preview);
        Assert.Equal(3, kept.Unread);
    }

    private static ConversationSummary Row(string tenant, string visitor, string status, DateTimeOffset created, DateTimeOffset? activity = null, DateTimeOffset? queued = null) =>
        new(Ulid.NewUlid(created).ToString(), tenant, "default", visitor, "Ana", status, status == ConversationStatus.Queued ? null : "bob", 5, created,
            status == ConversationStatus.Queued ? [] : ["bob"], Preview: activity is null ? null : "last words 🙂 " + new string('x', 120),
            LastActivityAt: activity, Unread: activity is null ? 0 : 3, AssigneeName: status == ConversationStatus.Queued ? null : "Bob Lee", QueuedAt: queued);

    private static ConversationQuery Query(string agent, bool admin, string? status = null, int limit = 100) =>
        new(agent, admin, status, limit);

    private static string NewTenant() => $"t{Guid.NewGuid():N}"[..12];
}
