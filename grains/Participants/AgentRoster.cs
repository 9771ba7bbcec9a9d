namespace Kefu.Grains.Participants;

/// <summary>
/// Which of an agent's conversations are active: the ones its presence changes go to. A conversation joins the roster
/// when the agent joins it (unless it is resolved) or is assigned it, and leaves it when it is resolved or the agent is
/// let go by a transfer; reopening brings it back. Kept small on purpose: an agent's reconnect then wakes only the
/// conversations it is working in, not every conversation it ever had (issue #13).
/// <para>
/// Changes come as one-way calls that may, rarely, arrive out of order. Each carries the conversation's event seq;
/// an entry remembers the seq that made it active, and a change older than that is ignored. Nothing is remembered for
/// conversations that left, so a late "active" can bring one back: the error is on the safe side (one more
/// conversation told of the agent's presence), and the conversation's next status change corrects it.
/// </para>
/// </summary>
public sealed class AgentRoster(HashSet<string> active, Dictionary<string, long> versions)
{
    public IReadOnlyCollection<string> Active => active;

    public bool Contains(string conversationId) => active.Contains(conversationId);

    /// <summary>The agent joined a conversation that is not resolved (no event seq known). Returns whether it changed.</summary>
    public bool Joined(string conversationId) => active.Add(conversationId);

    /// <summary>The conversation is active for the agent as of event <paramref name="seq"/>. Returns whether it changed.</summary>
    public bool MarkActive(string conversationId, long seq)
    {
        var known = versions.GetValueOrDefault(conversationId);
        var added = active.Add(conversationId);
        if (seq > known)
        {
            versions[conversationId] = seq;
            return true;
        }

        return added;
    }

    /// <summary>Resolved, or the agent was let go, as of event <paramref name="seq"/>. Returns whether it changed.</summary>
    public bool MarkInactive(string conversationId, long seq)
    {
        if (!active.Contains(conversationId) || seq < versions.GetValueOrDefault(conversationId))
        {
            return false;
        }

        active.Remove(conversationId);
        versions.Remove(conversationId);
        return true;
    }

    /// <summary>Keeps only the conversations <paramref name="keep"/> accepts (the one-time clean-up of an older state).</summary>
    public bool Retain(Func<string, bool> keep)
    {
        var dropped = active.Where(c => !keep(c)).ToArray();
        foreach (var conversationId in dropped)
        {
            active.Remove(conversationId);
            versions.Remove(conversationId);
        }

        return dropped.Length > 0;
    }
}
