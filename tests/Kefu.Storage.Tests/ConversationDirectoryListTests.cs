using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Options;

namespace Kefu.Storage.Tests;

/// <summary>
/// The directory row holds everything the conversation list shows (deploy/mysql/008-directory-list.sql): tags,
/// queue position, snooze end, first response and resolution times, the rating and the read marks, so
/// GET /api/v1/conversations needs no conversation grain (issue #13, item 3).
/// </summary>
public sealed class ConversationDirectoryListTests(MariaDbDatabase database) : IClassFixture<MariaDbDatabase>
{
    private MySqlConversationDirectory Directory =>
        new(Options.Create(new MySqlMessageStoreOptions { ConnectionString = database.ConnectionString }));

    [Fact]
    public async Task Every_field_the_list_shows_round_trips_like_the_in_memory_directory()
    {
        var tenant = $"t{Guid.NewGuid():N}"[..12];
        var created = new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero).AddTicks(120);
        var visitorKey = $"{tenant}/visitor/v1";
        var agentKey = $"{tenant}/agent/bob";
        var summary = new ConversationSummary(
            Ulid.NewUlid(created).ToString(), tenant, "default", "v1", "Ana", ConversationStatus.Snoozed, "bob", 12, created, ["bob", "carol"],
            Team: "billing", Priority: ConversationPriority.High, Tags: ["late, again", "vip", "ünïcode 🙂"], SnoozedUntil: created.AddHours(3),
            FirstResponseAt: created.AddSeconds(42.5), ResolvedAt: created.AddMinutes(30), Csat: new CsatRating(4, "quick \"and\" kind", created.AddMinutes(31)),
            ReadMarks: new Dictionary<string, long>(StringComparer.Ordinal) { [visitorKey] = 11, [agentKey] = 9 },
            Preview: "see you", LastActivityAt: created.AddMinutes(20), Unread: 3, AssigneeName: "Bob");
        var memory = new InMemoryConversationDirectory();
        await memory.UpsertAsync(summary);
        await Directory.UpsertAsync(summary);

        var row = Assert.Single(await Directory.ListAsync(tenant, new ConversationQuery("admin", true, null, 10)));
        var expected = Assert.Single(await memory.ListAsync(tenant, new ConversationQuery("admin", true, null, 10)));
        Assert.Equal(expected.Tags, row.Tags);
        Assert.Equal(expected.SnoozedUntil, row.SnoozedUntil);
        Assert.Equal(expected.FirstResponseAt, row.FirstResponseAt);
        Assert.Equal(expected.ResolvedAt, row.ResolvedAt);
        Assert.Equal(expected.Csat, row.Csat);
        Assert.Equal(expected.ReadMarks, row.ReadMarks);
        Assert.Equal(1, row.UnreadFor(visitorKey)); // the per-caller figure comes from the row's read marks and last seq
        Assert.Null(row.QueuePosition);

        // Queued: the position it waits at is kept; back to open it is gone, and so are the tags, rating and marks
        // when the conversation says so (every summary write replaces them).
        await Directory.UpsertAsync(summary with { Status = ConversationStatus.Queued, AssigneeId = null, QueuePosition = 2, QueuedAt = created.AddMinutes(40), LastSeq = 13 });
        Assert.Equal(2, Assert.Single(await Directory.ListAsync(tenant, new ConversationQuery("admin", true, null, 10))).QueuePosition);
        await Directory.UpsertAsync(summary with { Status = ConversationStatus.Open, Tags = [], SnoozedUntil = null, Csat = null, ReadMarks = [], LastSeq = 14 });
        var reopened = Assert.Single(await Directory.ListAsync(tenant, new ConversationQuery("admin", true, null, 10)));
        Assert.Null(reopened.QueuePosition);
        Assert.Empty(reopened.Tags!);
        Assert.Null(reopened.SnoozedUntil);
        Assert.Null(reopened.Csat);
        Assert.Empty(reopened.ReadMarks!);

        // Read marks follow the messages like the preview: a late write from an older view never moves them back.
        await Directory.UpsertAsync(summary with { Status = ConversationStatus.Open, ReadMarks = new Dictionary<string, long> { [agentKey] = 14 }, LastSeq = 14 });
        await Directory.UpsertAsync(summary with { Status = ConversationStatus.Open, ReadMarks = new Dictionary<string, long> { [agentKey] = 5 }, LastSeq = 10 });
        Assert.Equal(14, Assert.Single(await Directory.ListAsync(tenant, new ConversationQuery("admin", true, null, 10))).ReadMarks![agentKey]);
    }
}
