using Kefu.Contracts.Messages;

namespace Kefu.Contracts.Grains;

/// <summary>
/// The one place a tenant's assignments are decided, keyed by tenant: every waiting queue (one per inbox and one per
/// team), every agent's status and open conversations. Capacity is per agent across all inboxes, so the decision
/// domain is the tenant; one non-reentrant grain makes over-assignment impossible by construction.
/// Deadlock rule: this grain never awaits a call into another grain. It tells conversations of assignments and queue
/// positions with one-way calls, and re-sends an assignment until the conversation confirms it.
/// </summary>
public interface IDispatcherGrain : IGrainWithStringKey
{
    /// <summary>The tenant's inboxes, teams and agents (pushed by the tenant grain after every change).</summary>
    Task Configure(DispatchConfig config);

    /// <summary>
    /// Puts a conversation in its inbox's (or team's) queue, or assigns it at once when an eligible agent has a free
    /// slot. Idempotent per conversation: asking again answers with the current assignment or position.
    /// </summary>
    Task<QueueTicket> Enqueue(QueueRequest request);

    /// <summary>
    /// Gives a conversation to one agent (an agent taking it, or a transfer to an agent): refused with
    /// <c>at_capacity</c> when the agent has no free slot, unless <paramref name="force"/> (an admin's decision).
    /// </summary>
    Task<Outcome<QueueTicket>> Claim(QueueRequest request, string agentId, bool force);

    /// <summary>The conversation no longer needs a slot or a place in a queue (resolved, pending, snoozed).</summary>
    Task Release(string conversationId);

    /// <summary>The conversation applied its assignment; stops the re-sends.</summary>
    Task ConfirmAssignment(string conversationId, string agentId);

    /// <summary>An agent's effective status; sent on every change and with every presence heartbeat.</summary>
    Task AgentStatusChanged(string agentId, AgentStatus status);

    [AlwaysInterleave]
    Task<DispatchSnapshot> GetSnapshot();

    /// <summary>Whether an agent who serves the inbox is online (business hours are the caller's concern).</summary>
    [AlwaysInterleave]
    Task<bool> AnyAgentOnline(string inboxId);
}

[GenerateSerializer, Immutable]
public sealed record DispatchConfig(
    [property: Id(0)] InboxConfig[] Inboxes,
    [property: Id(1)] TeamConfig[] Teams,
    [property: Id(2)] AgentProfile[] Agents);

/// <summary>A conversation asking for an agent: from an inbox, or (after a transfer to a team) from a team.</summary>
[GenerateSerializer, Immutable]
public sealed record QueueRequest(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Inbox,
    [property: Id(2)] string? Team,
    [property: Id(3)] string Priority,
    [property: Id(4)] DateTimeOffset EnqueuedAt,
    [property: Id(5)] string? PreferredAgentId);

/// <summary>Either assigned (<see cref="AssigneeId"/>) or waiting at <see cref="Position"/> (1 = next).</summary>
[GenerateSerializer, Immutable]
public sealed record QueueTicket(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string? AssigneeId,
    [property: Id(2)] int Position,
    [property: Id(3)] bool AgentsOnline);

[GenerateSerializer, Immutable]
public sealed record QueueEntry(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string Inbox,
    [property: Id(2)] string? Team,
    [property: Id(3)] string Priority,
    [property: Id(4)] DateTimeOffset EnqueuedAt,
    [property: Id(5)] int Position);

[GenerateSerializer, Immutable]
public sealed record AgentLoad(
    [property: Id(0)] string AgentId,
    [property: Id(1)] AgentStatus Status,
    [property: Id(2)] int Capacity,
    [property: Id(3)] string[] OpenConversations);

[GenerateSerializer, Immutable]
public sealed record DispatchSnapshot(
    [property: Id(0)] QueueEntry[] Waiting,
    [property: Id(1)] AgentLoad[] Agents);

/// <summary>Maps a widget's public inbox key to its tenant and inbox; keyed by the public key.</summary>
public interface IInboxKeyGrain : IGrainWithStringKey
{
    Task Bind(InboxRef inbox);

    Task Unbind();

    [AlwaysInterleave]
    Task<InboxRef?> Resolve();
}
