using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// Reads the conversation directory for the list API: a stateless worker on the silos (any silo answers, several
/// activations run at once), so listing wakes none of the listed conversations and no single grain sits between every
/// console and the table, while gateways still never talk to the database. Keyed by tenant.
/// </summary>
public interface IConversationDirectoryGrain : IGrainWithStringKey
{
    Task<ConversationSummary[]> List(ConversationQuery query);
}
