using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Grains.Events;

namespace Kefu.Grains.Activity;

/// <summary>
/// After a note is committed, hands it to the tenant's <see cref="IMentionGrain"/> (one-way) when it has an '@' at all,
/// so the conversation's turn never waits on who is mentioned.
/// </summary>
public sealed class MentionSink(IGrainFactory grains) : IConversationEventSink
{
    public void OnCommitted(CommittedChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        foreach (var e in change.Events)
        {
            if (e.Data is NoteCreated { Note: var note } && note.Text.Contains('@', StringComparison.Ordinal))
            {
                grains.GetGrain<IMentionGrain>(change.Tenant).NoteCreated(note).Ignore();
            }
        }
    }
}
