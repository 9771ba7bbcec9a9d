namespace Kefu.Grains.Conversations;

/// <summary>A contact's erasure (docs/data-protection.md): the conversation forgets everything personal it holds.</summary>
public sealed partial class ConversationGrain
{
    public async Task<long> ErasePersonalData()
    {
        if (!state.State.Created && !state.RecordExists)
        {
            DeactivateOnIdle();
            return 0;
        }

        // The whole state goes (visitor name, notes, rating comment, tags, unrelayed events): what stays about the
        // conversation is its directory row without personal columns and its events with blanked data. The in-memory
        // window and preview go with the activation; the message rows are deleted by the erasure right after this,
        // so an activation started meanwhile finds a conversation that does not exist.
        var removed = 1L + state.State.Notes.Count;
        await state.ClearStateAsync();
        state.State = new ConversationState();
        _window = null;
        _audience = null;
        _outbox = null;
        _activity = new ConversationActivity();
        _readMarksDirty = false;
        _relayedSinceWrite = false;
        DeactivateOnIdle();
        return removed;
    }
}
