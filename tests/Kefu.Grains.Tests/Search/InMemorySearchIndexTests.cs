using Kefu.Grains.Directory;
using Kefu.Grains.Search;

namespace Kefu.Grains.Tests.Search;

public sealed class InMemorySearchIndexTests : SearchIndexContract
{
    private readonly InMemoryConversationDirectory _directory = new();

    public InMemorySearchIndexTests() => Index = new InMemorySearchIndex(_directory);

    protected override ISearchIndex Index { get; }

    protected override IConversationDirectory Directory => _directory;
}
