using Kefu.Grains.Directory;
using Kefu.Grains.Search;
using Kefu.Grains.Storage;

namespace Kefu.Grains.Tests.Search;

/// <summary>The backfill's contract in embedded mode: the in-memory store, directory and index.</summary>
public sealed class SearchBackfillTests : SearchBackfillContract
{
    private readonly InMemoryConversationDirectory _directory = new();

    public SearchBackfillTests()
    {
        Index = new InMemorySearchIndex(_directory);
        Source = new DirectorySearchBackfillSource(_directory);
    }

    protected override ISearchIndex Index { get; }

    protected override IConversationDirectory Directory => _directory;

    protected override IMessageStore Store { get; } = new InMemoryMessageStore();

    protected override ISearchBackfillSource Source { get; }
}
