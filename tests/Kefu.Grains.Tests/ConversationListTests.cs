using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Conversations;
using Kefu.Grains.Directory;
using Kefu.Grains.Tests.Infrastructure;

namespace Kefu.Grains.Tests;

/// <summary>What the conversation list shows about messages (issue #11, item 3), and how its directory row follows them.</summary>
[Collection(DefaultClusterCollection.Name)]
public sealed class ConversationListTests(DefaultClusterFixture fixture)
{
    private IClusterClient Client => fixture.Client;

    [Fact]
    public async Task TheDirectoryRowFollowsMessagesWithPreviewActivityAndUnreadButNeverTheAwayText()
    {
        var tenant = Scenario.NewTenant();
        var visitor = await Scenario.NewVisitorAsync(Client, tenant, name: "Ana");
        var admin = await Scenario.NewAgentAsync(Client, tenant, admin: true);
        var (conversationId, conversation) = await Scenario.StartConversationAsync(Client, visitor);

        // Nobody online: the first visitor message is followed by the away message, which is not the preview.
        (await conversation.SendAsync(visitor.Caller, "c-1", "first")).Ok();
        for (var i = 2; i <= 20; i++)
        {
            (await conversation.SendAsync(visitor.Caller, $"c-{i}", $"message {i}")).Ok();
        }

        var live = (await conversation.GetSummary())!;
        Assert.Equal("message 20", live.Preview);
        Assert.Equal(20, live.Unread);
        Assert.Equal(21, live.LastSeq); // with the away message

        var directory = Client.GetGrain<IConversationDirectoryGrain>(tenant);
        var row = await Scenario.EventuallyAsync(
            async () => (await directory.List(new ConversationQuery(admin.Id, true, null, 10))).Single(),
            r => r.Preview == "message 20",
            "the directory row to carry the last visitor message");
        Assert.Equal(live.LastActivityAt, row.LastActivityAt);
        Assert.Equal(20, row.Unread);
        Assert.Equal("Ana", row.VisitorName);

        // An agent takes it and answers: its reply is the preview, it read everything before, and its name shows.
        (await admin.Grain.Join(conversationId)).Ok();
        (await conversation.SendAsync(admin.Caller, "a-1", "Hi Ana")).Ok();
        (await conversation.SendAsync(visitor.Caller, "c-21", "thanks")).Ok();
        row = await Scenario.EventuallyAsync(
            async () => (await directory.List(new ConversationQuery(admin.Id, true, null, 10))).Single(),
            r => r.Preview == "thanks",
            "the directory row to follow the conversation");
        Assert.Equal(1, row.Unread);
        Assert.Equal(admin.Caller.Name, row.AssigneeName);

        // After a reactivation the figures are rebuilt from the store.
        var management = Client.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        var reloaded = (await conversation.GetSummary())!;
        Assert.Equal("thanks", reloaded.Preview);
        Assert.Equal(1, reloaded.Unread);
        Assert.Equal(row.LastActivityAt, reloaded.LastActivityAt);
    }

    [Theory]
    [InlineData("hello", "hello")]
    [InlineData("  two\n\nlines\t here ", "two lines here")]
    [InlineData("[attachment:01M8DHP3E3B0RHC0CGQ5V0TJ2B:image/png] screen shot.png", "screen shot.png")]
    [InlineData("see [attachment:01M8DHP3E3B0RHC0CGQ5V0TJ2B:image/png] x.png", "see [attachment:01M8DHP3E3B0RHC0CGQ5V0TJ2B:image/png] x.png")]
    public void PreviewIsOneLineAndAnAttachmentPreviewsAsItsFileName(string text, string preview) =>
        Assert.Equal(preview, ConversationActivity.PreviewOf(text));

    [Fact]
    public void PreviewIsAtMost140CharactersAndNeverSplitsASurrogatePair()
    {
        var preview = ConversationActivity.PreviewOf(new string('a', 138) + "🙂🙂🙂");
        Assert.True(preview.Length <= ConversationActivity.MaxPreviewLength);
        Assert.EndsWith("…", preview, StringComparison.Ordinal);
        Assert.False(char.IsHighSurrogate(preview[^2]));
        Assert.Equal(140, ConversationActivity.PreviewOf(new string('b', 1000)).Length);
    }

    [Fact]
    public void UnreadCountsVisitorMessagesAfterTheAgentsReadMarkAndStaysBounded()
    {
        var activity = new ConversationActivity();
        var seq = 0L;
        ChatMessage Message(ParticipantRole role, string text) =>
            new("c", Ulid.NewUlid(), ++seq, new Sender(role, role == ParticipantRole.Agent ? "bob" : "v", null), text, DateTimeOffset.UtcNow, null);

        activity.Add(Message(ParticipantRole.Visitor, "one"));
        activity.Add(Message(ParticipantRole.System, "We're away"));
        activity.Add(Message(ParticipantRole.Visitor, "two"));
        Assert.Equal(2, activity.Unread);
        Assert.Equal("two", activity.Preview);

        activity.Add(Message(ParticipantRole.Agent, "hi"));
        Assert.Equal(0, activity.Unread);
        Assert.Equal("hi", activity.Preview);

        var total = ConversationActivity.MaxTrackedUnread + 500;
        for (var i = 0; i < total; i++)
        {
            activity.Add(Message(ParticipantRole.Visitor, "spam"));
        }

        Assert.Equal(total, activity.Unread);
        activity.AgentsRead(seq - 10);
        Assert.Equal(10, activity.Unread);
        activity.AgentsRead(seq);
        Assert.Equal(0, activity.Unread);
    }

    [Fact]
    public void TheListOrderIsQueuedLongestWaitingFirstThenByLastActivity()
    {
        var t0 = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        ConversationSummary Row(string id, string status, DateTimeOffset created, DateTimeOffset? activity = null, DateTimeOffset? queued = null) =>
            new(id, "t", "i", "v", null, status, null, 0, created, [], LastActivityAt: activity, QueuedAt: queued);
        ConversationSummary[] rows =
        [
            Row("a", ConversationStatus.Open, t0, t0.AddMinutes(5)),
            Row("b", ConversationStatus.Queued, t0.AddMinutes(3), queued: t0.AddMinutes(3)),
            Row("c", ConversationStatus.Resolved, t0.AddMinutes(1), t0.AddMinutes(9)),
            Row("d", ConversationStatus.Queued, t0.AddMinutes(4), queued: t0.AddMinutes(2)),
            Row("e", ConversationStatus.Pending, t0.AddMinutes(6)),
        ];
        Assert.Equal(["d", "b", "c", "e", "a"], rows.InListOrder().Select(r => r.ConversationId));
    }
}
