using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;

namespace Kefu.Grains.Tests.Paths;

/// <summary>The embedded directory keeps rows by the same rules as the MySQL one (its storage tests), without a database.</summary>
public sealed class InMemoryDirectoryTests
{
    [Fact]
    public async Task A_late_write_from_an_older_view_never_moves_the_per_message_figures_back()
    {
        var directory = new InMemoryConversationDirectory();
        var id = Ulid.NewUlid().ToString();
        var now = DateTimeOffset.UtcNow;
        var newer = new ConversationSummary(id, "acme", "default", "v1", null, ConversationStatus.Open, "bob", 9, now, ["bob"],
            Tags: ["vip"], ReadMarks: new Dictionary<string, long> { ["acme/agent/bob"] = 9 }, Preview: "newest", LastActivityAt: now.AddMinutes(2), Unread: 0);
        await directory.UpsertAsync(newer);

        // An older view (last seq 5) that also carries a status change: the status is taken, the message figures are not.
        await directory.UpsertAsync(newer with
        {
            LastSeq = 5, Status = ConversationStatus.Pending, Preview = "older", LastActivityAt = now, Unread = 4,
            ReadMarks = new Dictionary<string, long> { ["acme/agent/bob"] = 3 },
        });

        var row = Assert.Single(await directory.ListAsync("acme", new ConversationQuery("admin", true, null, 10)));
        Assert.Equal(ConversationStatus.Pending, row.Status);
        Assert.Equal(9, row.LastSeq);
        Assert.Equal("newest", row.Preview);
        Assert.Equal(now.AddMinutes(2), row.LastActivityAt);
        Assert.Equal(0, row.Unread);
        Assert.Equal(9, row.ReadMarks!["acme/agent/bob"]);
        Assert.Equal(["vip"], row.Tags!);
    }
}
