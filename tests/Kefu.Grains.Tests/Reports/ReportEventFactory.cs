using Kefu.Contracts.Events;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tests.Reports;

/// <summary>
/// conversation.* events as the event log stores them (data written by <see cref="EventJson"/>, the public form the
/// projector parses), for the projector, store and benchmark tests. Linked into the storage tests.
/// </summary>
public static class ReportEventFactory
{
    public static ConversationSummary Summary(
        string tenant, string conversationId, DateTimeOffset created, string inbox = "default", string status = "open",
        string? agent = null, string? team = null, DateTimeOffset? firstResponse = null, DateTimeOffset? resolved = null, int? rating = null) =>
        new(conversationId, tenant, inbox, "visitor-1", "Visitor Name", status, agent, 0, created, agent is null ? [] : [agent], team,
            FirstResponseAt: firstResponse, ResolvedAt: resolved,
            Csat: rating is { } r ? new CsatRating(r, "a private comment", resolved ?? created) : null);

    public static StoredEvent Event(long cursor, long seq, EventData data, DateTimeOffset time)
    {
        var summary = data switch
        {
            ConversationCreated c => c.Conversation,
            ConversationStatusChanged s => s.Conversation,
            ConversationAssigned a => a.Conversation,
            ConversationTransferred t => t.Conversation,
            ConversationRated r => r.Conversation,
            ConversationUpdated u => u.Conversation,
            _ => throw new ArgumentException("not a conversation event", nameof(data)),
        };
        return new StoredEvent(cursor, Ulid.NewUlid(time), data.Type, summary.Tenant, summary.ConversationId, seq, time,
            Causation.Of("test"), EventJson.Data(data));
    }

    /// <summary>
    /// The events of <paramref name="count"/> conversations created from <paramref name="start"/> over
    /// <paramref name="days"/> days: created, assigned (most), first response, resolved (most), rated (some), some reopened.
    /// In cursor order of a plausible log (each conversation's events in seq order, conversations interleaved).
    /// </summary>
    public static List<StoredEvent> Random(string tenant, int count, int seed, DateTimeOffset start, int days)
    {
        var random = new Random(seed);
        string[] inboxes = ["web", "app", "mail"];
        string[] teams = ["sales", "support"];
        var timed = new List<(DateTimeOffset Time, long Seq, EventData Data)>();
        for (var i = 0; i < count; i++)
        {
            var created = start.AddSeconds(random.NextDouble() * days * 86_400);
            var id = Ulid.NewUlid(created, BitConverter.GetBytes((long)i).Concat(new byte[2]).ToArray()).ToString();
            var inbox = inboxes[random.Next(inboxes.Length)];
            var team = random.Next(4) == 0 ? null : teams[random.Next(teams.Length)];
            var s = Summary(tenant, id, created, inbox, "queued", team: team);
            long seq = 1;
            timed.Add((created, seq++, new ConversationCreated(s)));
            if (random.Next(10) == 0)
            {
                continue; // never assigned: waiting
            }

            var agent = "agent-" + random.Next(12);
            var assignedAt = created.AddSeconds(random.Next(1, 600));
            s = s with { Status = "open", AssigneeId = agent, AgentIds = [agent] };
            timed.Add((assignedAt, seq++, new ConversationAssigned(agent, null, null, s)));
            var firstResponse = assignedAt.AddMilliseconds(random.Next(200, 1_800_000));
            s = s with { FirstResponseAt = firstResponse };
            if (random.Next(5) == 0)
            {
                continue; // answered, still open
            }

            var resolvedAt = firstResponse.AddSeconds(random.Next(10, 200_000));
            s = s with { Status = "resolved", ResolvedAt = resolvedAt };
            timed.Add((resolvedAt, seq++, new ConversationStatusChanged("open", "resolved", s)));
            if (random.Next(3) == 0)
            {
                var ratedAt = resolvedAt.AddSeconds(random.Next(1, 600));
                s = s with { Csat = new CsatRating(random.Next(1, 6), "comment", ratedAt) };
                timed.Add((ratedAt, seq++, new ConversationRated(s.Csat, s)));
            }

            if (random.Next(10) == 0)
            {
                var reopenedAt = resolvedAt.AddSeconds(random.Next(700, 90_000));
                s = s with { Status = "open" };
                timed.Add((reopenedAt, seq++, new ConversationStatusChanged("resolved", "open", s)));
            }
        }

        long cursor = 0;
        return [.. timed.OrderBy(t => t.Time).Select(t => Event(++cursor, t.Seq, t.Data, t.Time))];
    }
}
