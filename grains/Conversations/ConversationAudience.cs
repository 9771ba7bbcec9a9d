using Kefu.Contracts.Messages;
using Kefu.Grains.Events;

namespace Kefu.Grains.Conversations;

/// <summary>
/// Who listens to a conversation and where: each participant's latest presence (versioned, so a late update never
/// wins over a newer one), handed to the sinks as an immutable <see cref="AudienceSnapshot"/>. The snapshot is
/// built once per presence change and shared by every change until the next one, so a send allocates no routes;
/// the push sink groups recipients by gateway (and caches that per snapshot).
/// </summary>
internal sealed class ConversationAudience(string visitorKey)
{
    private readonly Dictionary<string, ParticipantPresence> _presence = new(StringComparer.Ordinal);
    private AudienceSnapshot? _snapshot;

    public string VisitorKey { get; } = visitorKey;

    /// <summary>Takes the presence unless a newer one is known; returns whether anything changed.</summary>
    public bool Apply(ParticipantPresence presence)
    {
        if (_presence.TryGetValue(presence.ParticipantKey, out var known) && known.Version >= presence.Version)
        {
            return false;
        }

        _presence[presence.ParticipantKey] = presence;
        _snapshot = null;
        return true;
    }

    /// <summary>The participant stops listening (an agent let go by a transfer); returns where it was connected.</summary>
    public ParticipantPresence? Remove(string participantKey)
    {
        if (!_presence.Remove(participantKey, out var presence))
        {
            return null;
        }

        _snapshot = null;
        return presence;
    }

    public AudienceSnapshot Snapshot() => _snapshot ??= Build(null);

    /// <summary>This change's audience with a participant that left in it (so it hears the change once more).</summary>
    public AudienceSnapshot SnapshotWith(ParticipantPresence? leaving) => leaving is null ? Snapshot() : Build(leaving);

    private AudienceSnapshot Build(ParticipantPresence? extra)
    {
        var gateways = new Dictionary<string, string[]>(_presence.Count + 1, StringComparer.Ordinal);
        foreach (var (key, presence) in _presence)
        {
            if (presence.Gateways.Length > 0)
            {
                gateways[key] = presence.Gateways;
            }
        }

        if (extra is { Gateways.Length: > 0 })
        {
            gateways[extra.ParticipantKey] = extra.Gateways;
        }

        return new AudienceSnapshot(VisitorKey, gateways);
    }
}
