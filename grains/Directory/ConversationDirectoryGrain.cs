using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Directory;

/// <summary>The directory's read side for gateways: one query, no state.</summary>
[StatelessWorker]
public sealed class ConversationDirectoryGrain(IConversationDirectory directory) : Grain, IConversationDirectoryGrain
{
    public async Task<ConversationSummary[]> List(ConversationQuery query) =>
        [.. await directory.ListAsync(this.GetPrimaryKeyString(), query)];
}
