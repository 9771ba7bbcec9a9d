using Kefu.Grains.Events;

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
        if (state.State.Created)
        {
            // The newest summary the sinks hold becomes one without personal fields: a directory write still waiting in
            // the sink's interval (a recent message's preview) then writes the blanked row, never the old preview.
            var blanked = Summary() with
            {
                VisitorName = null,
                Preview = null,
                Csat = state.State.Csat is { } csat ? csat with { Comment = null } : null,
            };
            sinks.Committed(new CommittedChange(_tenant, _id, [], blanked, Audience.Snapshot()));
        }

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
