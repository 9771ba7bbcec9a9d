using Kefu.Contracts.Messages;
using Kefu.Grains.Storage;

namespace Kefu.Grains.Tests;

public sealed class InMemoryMessageStoreTests
{
    private const string Tenant = "acme";
    private const string Conversation = "conv-1";

    private static ChatMessage Message(long seq, string conversation = Conversation) =>
        new(conversation, Ulid.NewUlid(), seq, new Sender(ParticipantRole.Visitor, "v1", null), $"m{seq}", DateTimeOffset.UnixEpoch, $"c-{seq}");

    private static async Task<InMemoryMessageStore> StoreWithAsync(int count)
    {
        var store = new InMemoryMessageStore();
        for (var seq = 1; seq <= count; seq++)
        {
            await store.AppendAsync(Tenant, Message(seq));
        }

        return store;
    }

    [Fact]
    public async Task AppendingAnythingButTheNextSeqConflicts()
    {
        var store = new InMemoryMessageStore();
        await Assert.ThrowsAsync<MessageStoreConflictException>(async () => await store.AppendAsync(Tenant, Message(0)));
        await Assert.ThrowsAsync<MessageStoreConflictException>(async () => await store.AppendAsync(Tenant, Message(2)));

        await store.AppendAsync(Tenant, Message(1));
        await Assert.ThrowsAsync<MessageStoreConflictException>(async () => await store.AppendAsync(Tenant, Message(1)));
        await Assert.ThrowsAsync<MessageStoreConflictException>(async () => await store.AppendAsync(Tenant, Message(3)));
        await store.AppendAsync(Tenant, Message(2));

        Assert.Equal([1L, 2L], (await store.ReadAfterAsync(Tenant, Conversation, 0, 100)).Select(m => m.Seq));
    }

    [Fact]
    public async Task ConversationsAndTenantsAreSeparateLogs()
    {
        var store = await StoreWithAsync(3);
        await store.AppendAsync(Tenant, Message(1, "conv-2"));
        await store.AppendAsync("other", Message(1));

        Assert.Equal(3, (await store.ReadAfterAsync(Tenant, Conversation, 0, 100)).Count);
        Assert.Single(await store.ReadAfterAsync(Tenant, "conv-2", 0, 100));
        Assert.Single(await store.ReadAfterAsync("other", Conversation, 0, 100));
        Assert.Empty(await store.ReadAfterAsync(Tenant, "conv-unknown", 0, 100));
        Assert.Empty(await store.ReadLatestAsync(Tenant, "conv-unknown", 10));
    }

    [Theory]
    [InlineData(0, 100, 1, 10)]
    [InlineData(-5, 3, 1, 3)]
    [InlineData(3, 4, 4, 7)]
    [InlineData(8, 100, 9, 10)]
    [InlineData(9, 1, 10, 10)]
    public async Task ReadAfterReturnsAscendingSeqsAfterTheCursorUpToTheLimit(long after, int limit, long first, long last)
    {
        var store = await StoreWithAsync(10);

        var page = await store.ReadAfterAsync(Tenant, Conversation, after, limit);

        Assert.Equal(Enumerable.Range((int)first, (int)(last - first + 1)).Select(i => (long)i), page.Select(m => m.Seq));
    }

    [Theory]
    [InlineData(10, 100)]
    [InlineData(11, 100)]
    [InlineData(long.MaxValue, 100)]
    [InlineData(0, 0)]
    [InlineData(0, -1)]
    public async Task ReadAfterReturnsNothingPastTheEndOrForNoLimit(long after, int limit)
    {
        var store = await StoreWithAsync(10);

        Assert.Empty(await store.ReadAfterAsync(Tenant, Conversation, after, limit));
    }

    [Theory]
    [InlineData(3, 8)]
    [InlineData(1, 10)]
    [InlineData(10, 1)]
    [InlineData(50, 1)]
    public async Task ReadLatestReturnsTheNewestAscending(int count, long first)
    {
        var store = await StoreWithAsync(10);

        var latest = await store.ReadLatestAsync(Tenant, Conversation, count);

        Assert.Equal(Enumerable.Range((int)first, (int)(10 - first + 1)).Select(i => (long)i), latest.Select(m => m.Seq));
        Assert.Equal(10, latest[^1].Seq);
    }

    [Fact]
    public async Task ReadLatestOfNothingIsEmpty()
    {
        var store = await StoreWithAsync(10);
        Assert.Empty(await store.ReadLatestAsync(Tenant, Conversation, 0));
        Assert.Empty(await store.ReadLatestAsync(Tenant, Conversation, -3));
        Assert.Empty(await new InMemoryMessageStore().ReadLatestAsync(Tenant, Conversation, 5));
    }

    [Fact]
    public async Task ReadsAreSnapshotsNotLiveViews()
    {
        var store = await StoreWithAsync(3);
        var page = await store.ReadAfterAsync(Tenant, Conversation, 0, 100);
        var latest = await store.ReadLatestAsync(Tenant, Conversation, 100);

        await store.AppendAsync(Tenant, Message(4));

        Assert.Equal(3, page.Count);
        Assert.Equal(3, latest.Count);
    }

    [Fact]
    public async Task ConcurrentAppendsOfTheSameSeqLetExactlyOneWin()
    {
        var store = await StoreWithAsync(5);
        var attempts = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            try
            {
                await store.AppendAsync(Tenant, Message(6));
                return true;
            }
            catch (MessageStoreConflictException)
            {
                return false;
            }
        }));

        var results = await Task.WhenAll(attempts);

        Assert.Single(results, r => r);
        Assert.Equal(6, (await store.ReadLatestAsync(Tenant, Conversation, 1))[0].Seq);
    }
}
