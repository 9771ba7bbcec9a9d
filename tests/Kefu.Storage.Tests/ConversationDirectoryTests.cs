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

    private static ConversationQuery Query(string agent, bool admin, string? status = null, int limit = 100) =>
        new(agent, admin, status, limit);

    private static string NewTenant() => $"t{Guid.NewGuid():N}"[..12];
}
