using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;

namespace Kefu.Grains.Tests.Dispatch;

/// <summary>Configurations, requests and snapshot reading for dispatcher tests (fake conversation ids, no conversations).</summary>
internal static class DispatchKit
{
    public static readonly DateTimeOffset T0 = new(2025, 1, 1, 9, 0, 0, TimeSpan.Zero);

    public static AgentProfile Agent(string id, int capacity = AgentProfile.DefaultCapacity) =>
        new(id, "Agent " + id, AgentRoles.Agent, T0, capacity);

    public static InboxConfig Inbox(string id, string policy = AssignmentPolicies.LeastBusy, int? maxOpen = null, params string[] teams) =>
        new(id, id, "pk_" + id, policy, maxOpen, teams, null, null, null, false);

    public static TeamConfig Team(string id, params string[] agentIds) => new(id, id, agentIds);

    public static DispatchConfig Config(AgentProfile[] agents, InboxConfig[]? inboxes = null, TeamConfig[]? teams = null) =>
        new(inboxes ?? [], teams ?? [], agents);

    public static QueueRequest Request(
        string conversationId,
        int second,
        string inbox = "default",
        string? team = null,
        string priority = ConversationPriority.Normal,
        string? preferred = null) =>
        new(conversationId, inbox, team, priority, T0.AddSeconds(second), preferred);

    /// <summary>A dispatcher of a fresh tenant, configured, with the given agents reported online.</summary>
    public static async Task<(string Tenant, IDispatcherGrain Dispatcher)> NewDispatcherAsync(
        IGrainFactory grains, DispatchConfig config, params string[] online)
    {
        var tenant = Infrastructure.Scenario.NewTenant();
        var dispatcher = grains.GetGrain<IDispatcherGrain>(tenant);
        await dispatcher.Configure(config);
        foreach (var agentId in online)
        {
            await dispatcher.AgentStatusChanged(agentId, AgentStatus.Online);
        }

        return (tenant, dispatcher);
    }

    public static string[] OpenOf(this DispatchSnapshot snapshot, string agentId) =>
        snapshot.Agents.Single(a => a.AgentId == agentId).OpenConversations;

    public static AgentStatus StatusOf(this DispatchSnapshot snapshot, string agentId) =>
        snapshot.Agents.Single(a => a.AgentId == agentId).Status;

    public static string? AssigneeOf(this DispatchSnapshot snapshot, string conversationId) =>
        snapshot.Agents.SingleOrDefault(a => a.OpenConversations.Contains(conversationId))?.AgentId;

    public static int PositionOf(this DispatchSnapshot snapshot, string conversationId) =>
        snapshot.Waiting.Single(w => w.ConversationId == conversationId).Position;

    /// <summary>Waiting conversation ids in service order.</summary>
    public static string[] WaitingIds(this DispatchSnapshot snapshot) =>
        [.. snapshot.Waiting.OrderBy(w => w.Position).Select(w => w.ConversationId)];
}
