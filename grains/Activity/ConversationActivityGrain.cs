using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;

namespace Kefu.Grains.Activity;

/// <summary>
/// Reads a conversation's timeline from the event log for gateways (which never talk to the database). Stateless: any
/// silo answers; one tenant grain call per page fills in agent names the events did not carry.
/// </summary>
[StatelessWorker]
public sealed class ConversationActivityGrain(Events.IEventLog log) : Grain, IConversationActivityGrain
{
    /// <summary>The most items one read returns (the API's limit is checked against it too).</summary>
    public const int MaxLimit = 200;

    public async Task<ActivityPage> Read(string conversationId, long after, int limit)
    {
        var tenant = this.GetPrimaryKeyString();
        var page = await log.ReadConversationAsync(tenant, conversationId, after, ActivityTypes.All, Math.Clamp(limit, 1, MaxLimit));
        if (page.Events.Length == 0)
        {
            return new ActivityPage([], page.Next);
        }

        var agents = await GrainFactory.GetGrain<ITenantGrain>(tenant).ListAgents();
        var names = agents.ToDictionary(a => a.AgentId, a => a.DisplayName, StringComparer.Ordinal);
        string? NameOf(string id) => names.GetValueOrDefault(id);
        var items = page.Events.Select(e => new ActivityItem(
            e.Cursor, e.Id, e.Type, e.Time, Actor(e.Causation, NameOf), ActivityFields.For(e, NameOf)));
        return new ActivityPage([.. items], page.Next);
    }

    /// <summary>An agent's current display name when the event did not carry one.</summary>
    private static Causation Actor(Causation causation, Func<string, string?> names) =>
        causation is { Kind: Causation.Agent, Name: null } ? causation with { Name = names(causation.Id) } : causation;
}
