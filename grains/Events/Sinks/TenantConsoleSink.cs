using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Events.Sinks;

/// <summary>
/// The tenant's agent consoles see new and changed conversations they are not in (the queue, admins' view): every
/// change with a conversation.* event goes to the tenant grain, one-way (it routes to its online agents).
/// </summary>
public sealed class TenantConsoleSink(IGrainFactory grains) : IConversationEventSink
{
    public void OnCommitted(CommittedChange change)
    {
        foreach (var e in change.Events)
        {
            if (e.Data is not (MessageCreated or NoteCreated))
            {
                Announce(change.Summary);
                return;
            }
        }
    }

    public void Announce(ConversationSummary summary) =>
        grains.GetGrain<ITenantGrain>(summary.Tenant).ConversationChanged(summary).Ignore();
}
