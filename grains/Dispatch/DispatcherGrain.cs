using Kefu.Contracts.Grains;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Dispatch;

/// <summary>
/// The tenant's dispatcher: every waiting queue, every agent's load, and the only place an assignment is decided.
/// Not reentrant, so two arrivals can never take the same last slot. Each decision is persisted before anyone is
/// told, and nobody is ever awaited: conversations hear of decisions by one-way calls, repeated until confirmed.
/// After every operation no waiting conversation (outside manual inboxes) has an eligible agent with a free slot.
/// </summary>
public sealed partial class DispatcherGrain(
    [PersistentState("dispatch", KefuStorage.Name)] IPersistentState<DispatchState> state,
    TimeProvider time,
    IOptions<DispatchOptions> options,
    IDispatchNotifier notifier,
    ILogger<DispatcherGrain> logger) : Grain, IDispatcherGrain
{
    private readonly DispatchOptions _options = options.Value;

    // Derived from the persisted state on activation and kept in step with it.
    private readonly SortedSet<QueueRequest> _waiting = new(WaitingOrder.Instance);
    private readonly Dictionary<string, SortedSet<QueueRequest>> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _openByAgent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _openByInbox = new(StringComparer.Ordinal);
    private Dictionary<string, InboxConfig> _inboxes = new(StringComparer.Ordinal);
    private Dictionary<string, HashSet<string>> _teamMembers = new(StringComparer.Ordinal);
    private Dictionary<string, AgentProfile> _agents = new(StringComparer.Ordinal);
    private string[] _agentIds = [];

    // Volatile by design: a status is only as good as its last report.
    private readonly Dictionary<string, StatusReport> _statuses = new(StringComparer.Ordinal);

    // What the waiting conversations were last told, so only changed positions are sent.
    private readonly Dictionary<string, int> _toldPositions = new(StringComparer.Ordinal);

    // Assignments decided in this turn, sent once the state is written.
    private readonly List<(string ConversationId, string AgentId)> _outbox = [];

    // Unconfirmed at the previous tick: re-sent only once a full tick has passed since the first send.
    private HashSet<string> _resendDue = new(StringComparer.Ordinal);
    private bool _dirty;
    private string _tenant = string.Empty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenant = this.GetPrimaryKeyString();
        IndexConfig(state.State.Config);
        foreach (var request in state.State.Waiting.Values)
        {
            IndexWaiting(request);
        }

        foreach (var (conversationId, open) in state.State.Open)
        {
            IndexOpen(conversationId, open);
        }

        // Positions were told before the last deactivation; assignments may not have arrived, so re-send them soon.
        foreach (var (conversationId, position) in Positions())
        {
            _toldPositions[conversationId] = position;
        }

        _resendDue = new HashSet<string>(state.State.Unconfirmed.Keys, StringComparer.Ordinal);
        this.RegisterGrainTimer(
            static (self, _) => self.Tick(),
            this,
            new GrainTimerCreationOptions(_options.TickPeriod, _options.TickPeriod) { KeepAlive = false });
        return Task.CompletedTask;
    }

    public async Task Configure(DispatchConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        state.State.Config = config;
        IndexConfig(config);
        _dirty = true;

        // More capacity, new members or a higher maxOpen may let waiting conversations through.
        Drain(time.GetUtcNow());
        await CommitAsync();
        Tell();
    }

    public async Task<QueueTicket> Enqueue(QueueRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ConversationId);
        ArgumentException.ThrowIfNullOrEmpty(request.Inbox);
        var id = request.ConversationId;
        var now = time.GetUtcNow();
        if (state.State.Open.TryGetValue(id, out var open))
        {
            return new QueueTicket(id, open.AgentId, 0, AnyServerOnline(request.Inbox, request.Team, now));
        }

        if (state.State.Waiting.TryGetValue(id, out var waiting))
        {
            if (SamePlace(waiting, request))
            {
                return Ticket(id, now);
            }

            // A new priority or queue for a waiting conversation: it moves, keeping its age.
            RemoveWaiting(id);
            AddWaiting(request with { EnqueuedAt = waiting.EnqueuedAt, PreferredAgentId = null });
        }
        else if (request.PreferredAgentId is { } preferred && IsEligible(preferred, request, now))
        {
            Assign(request, preferred, now, tell: true);
        }
        else
        {
            AddWaiting(request);
        }

        _dirty = true;
        Drain(now);
        await CommitAsync();
        var ticket = Ticket(id, now);
        if (ticket.AssigneeId is null)
        {
            // The caller learns this position from the ticket; only later changes are sent.
            _toldPositions[id] = ticket.Position;
        }

        Tell();
        return ticket;
    }

    public async Task<Outcome<QueueTicket>> Claim(QueueRequest request, string agentId, bool force)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.ConversationId);
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        var id = request.ConversationId;
        var now = time.GetUtcNow();
        if (!_agents.TryGetValue(agentId, out var agent))
        {
            return KefuError.NotFound("Agent");
        }

        if (state.State.Open.TryGetValue(id, out var open) && open.AgentId == agentId)
        {
            return Ticket(id, now);
        }

        if (!force && OpenCount(agentId) >= agent.Capacity)
        {
            return new KefuError(ErrorCodes.AtCapacity, $"Agent '{agentId}' already holds {agent.Capacity} open conversations.");
        }

        // Moving from another agent frees that agent's slot; the drain below may refill it.
        Unassign(id);
        var inbox = state.State.Waiting.TryGetValue(id, out var waiting) ? waiting.Inbox : open?.Inbox ?? request.Inbox;
        RemoveWaiting(id);

        // The caller hears the result from this call; the re-send timer covers a caller that fails to apply it.
        Assign(request with { Inbox = inbox }, agentId, now, tell: false);
        Drain(now);
        await CommitAsync();
        Tell();
        return Ticket(id, now);
    }

    public async Task Release(string conversationId)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        if (!Unassign(conversationId) & !RemoveWaiting(conversationId))
        {
            return;
        }

        _dirty = true;
        Drain(time.GetUtcNow());
        await CommitAsync();
        Tell();
    }

    public async Task ConfirmAssignment(string conversationId, string agentId)
    {
        if (state.State.Unconfirmed.TryGetValue(conversationId, out var pending) && pending == agentId)
        {
            state.State.Unconfirmed.Remove(conversationId);
            _resendDue.Remove(conversationId);
            _dirty = true;
            await CommitAsync();
        }
    }

    public async Task AgentStatusChanged(string agentId, AgentStatus status)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        var now = time.GetUtcNow();
        var before = StatusOf(agentId, now);
        _statuses[agentId] = new StatusReport(status, now);
        if (before == status)
        {
            return; // A heartbeat: only the report time moved.
        }

        LogStatus(logger, _tenant, agentId, status);
        if (status == AgentStatus.Online)
        {
            Drain(now);
            await CommitAsync();
            Tell();
        }
    }

    public Task<DispatchSnapshot> GetSnapshot()
    {
        var now = time.GetUtcNow();
        var positions = PositionsById();
        var waiting = _waiting
            .Select(r => new QueueEntry(r.ConversationId, r.Inbox, r.Team, r.Priority, r.EnqueuedAt, positions[r.ConversationId]))
            .ToArray();
        var agents = _agentIds
            .Union(_openByAgent.Keys.Where(a => _openByAgent[a].Count > 0).Order(StringComparer.Ordinal), StringComparer.Ordinal)
            .Select(a => new AgentLoad(
                a,
                StatusOf(a, now),
                _agents.TryGetValue(a, out var profile) ? profile.Capacity : 0,
                [.. OpenOf(a).Order(StringComparer.Ordinal)]))
            .ToArray();
        return Task.FromResult(new DispatchSnapshot(waiting, agents));
    }

    public Task<bool> AnyAgentOnline(string inboxId) => Task.FromResult(AnyServerOnline(inboxId, null, time.GetUtcNow()));

    /// <summary>
    /// Assigns waiting conversations, oldest (highest priority first) first, while some eligible agent has a free slot.
    /// Preferences are not honoured here: they would let a conversation overtake older ones.
    /// </summary>
    private void Drain(DateTimeOffset now)
    {
        if (_waiting.Count == 0 || !AnyFreeOnlineAgent(now))
        {
            return;
        }

        // A queue whose oldest conversation finds nobody blocks the rest of it: they have the same eligibility.
        var blocked = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in _waiting.ToArray())
        {
            var key = QueueKey(request);
            if (blocked.Contains(key))
            {
                continue;
            }

            if (Pick(request, now) is not { } agentId)
            {
                blocked.Add(key);
                continue;
            }

            Assign(request, agentId, now, tell: true);
            if (PolicyOf(request.Inbox) == AssignmentPolicies.RoundRobin)
            {
                // Only the rotation moves the cursor: claims and preferred agents are not anyone's turn.
                state.State.RoundRobinCursors[key] = agentId;
            }

            if (!AnyFreeOnlineAgent(now))
            {
                return;
            }
        }
    }

    /// <summary>The agent the inbox's policy gives this conversation to, among the eligible ones.</summary>
    private string? Pick(QueueRequest request, DateTimeOffset now)
    {
        var policy = PolicyOf(request.Inbox);
        if (policy == AssignmentPolicies.Manual || !InboxHasRoom(request.Inbox))
        {
            return null;
        }

        if (policy == AssignmentPolicies.RoundRobin)
        {
            // The next eligible agent after the last one served from this queue, in id order, wrapping around.
            var cursor = state.State.RoundRobinCursors.GetValueOrDefault(QueueKey(request));
            string? first = null;
            foreach (var agentId in _agentIds)
            {
                if (!IsEligible(agentId, request, now))
                {
                    continue;
                }

                if (cursor is null || string.CompareOrdinal(agentId, cursor) > 0)
                {
                    return agentId;
                }

                first ??= agentId;
            }

            return first;
        }

        // least_busy: fewest open, then longest since the last assignment, then id (the iteration order).
        string? best = null;
        var bestOpen = int.MaxValue;
        var bestLast = DateTimeOffset.MaxValue;
        foreach (var agentId in _agentIds)
        {
            if (!IsEligible(agentId, request, now))
            {
                continue;
            }

            var openCount = OpenCount(agentId);
            var last = state.State.LastAssignedAt.TryGetValue(agentId, out var at) ? at : DateTimeOffset.MinValue;
            if (openCount < bestOpen || (openCount == bestOpen && last < bestLast))
            {
                (best, bestOpen, bestLast) = (agentId, openCount, last);
            }
        }

        return best;
    }

    private void Assign(QueueRequest request, string agentId, DateTimeOffset now, bool tell)
    {
        var id = request.ConversationId;
        RemoveWaiting(id);
        var open = new OpenAssignment(agentId, request.Inbox);
        state.State.Open[id] = open;
        IndexOpen(id, open);
        state.State.Unconfirmed[id] = agentId;
        state.State.LastAssignedAt[agentId] = now;
        _toldPositions.Remove(id);
        if (tell)
        {
            _outbox.Add((id, agentId));
        }

        _dirty = true;
        Telemetry.KefuMetrics.Assigned(_tenant, request.EnqueuedAt, now, claimed: !tell);
        LogAssigned(logger, _tenant, id, agentId);
    }

    /// <returns>true when the conversation held a slot.</returns>
    private bool Unassign(string conversationId)
    {
        if (!state.State.Open.Remove(conversationId, out var open))
        {
            return false;
        }

        _openByAgent[open.AgentId].Remove(conversationId);
        _openByInbox[open.Inbox]--;
        state.State.Unconfirmed.Remove(conversationId);
        _resendDue.Remove(conversationId);
        _dirty = true;
        return true;
    }

    private void AddWaiting(QueueRequest request)
    {
        state.State.Waiting[request.ConversationId] = request;
        IndexWaiting(request);
        _dirty = true;
    }

    /// <returns>true when the conversation was waiting.</returns>
    private bool RemoveWaiting(string conversationId)
    {
        if (!state.State.Waiting.Remove(conversationId, out var request))
        {
            return false;
        }

        _waiting.Remove(request);
        var key = QueueKey(request);
        if (_queues.TryGetValue(key, out var queue) && queue.Remove(request) && queue.Count == 0)
        {
            _queues.Remove(key);
        }

        _dirty = true;
        return true;
    }

    /// <summary>Persists this turn's decisions; only then may anyone hear of them.</summary>
    private async Task CommitAsync()
    {
        if (!_dirty)
        {
            return;
        }

        try
        {
            await state.WriteStateAsync();
            _dirty = false;
        }
        catch (Exception ex)
        {
            // Memory now holds decisions storage does not: tell nobody, and start again from what was stored.
            _outbox.Clear();
            LogWriteFailed(logger, ex, _tenant);
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Sends this turn's assignments and every position that changed (after <see cref="CommitAsync"/>).</summary>
    private void Tell()
    {
        foreach (var (conversationId, agentId) in _outbox)
        {
            notifier.Assigned(_tenant, conversationId, agentId);
        }

        _outbox.Clear();
        foreach (var (conversationId, position) in Positions())
        {
            if (!_toldPositions.TryGetValue(conversationId, out var told) || told != position)
            {
                _toldPositions[conversationId] = position;
                notifier.QueuePositionChanged(_tenant, conversationId, position);
            }
        }

        if (_toldPositions.Count > state.State.Waiting.Count)
        {
            foreach (var conversationId in _toldPositions.Keys.Where(c => !state.State.Waiting.ContainsKey(c)).ToArray())
            {
                _toldPositions.Remove(conversationId);
            }
        }
    }

    /// <summary>Drops expired statuses and re-sends assignments that stayed unconfirmed for a whole tick.</summary>
    private Task Tick()
    {
        var now = time.GetUtcNow();
        foreach (var (agentId, report) in _statuses.ToArray())
        {
            if (now - report.At > _options.StatusExpiry)
            {
                _statuses.Remove(agentId);
                if (report.Status != AgentStatus.Offline)
                {
                    LogStatusExpired(logger, _tenant, agentId);
                }
            }
        }

        foreach (var conversationId in _resendDue)
        {
            if (state.State.Unconfirmed.TryGetValue(conversationId, out var agentId))
            {
                notifier.Assigned(_tenant, conversationId, agentId);
            }
        }

        _resendDue = new HashSet<string>(state.State.Unconfirmed.Keys, StringComparer.Ordinal);
        if (_resendDue.Count > 0)
        {
            // Re-sends only happen while active; stay so until the conversations confirm.
            DelayDeactivation(_options.TickPeriod * 3);
        }

        return Task.CompletedTask;
    }

    private QueueTicket Ticket(string conversationId, DateTimeOffset now)
    {
        if (state.State.Open.TryGetValue(conversationId, out var open))
        {
            return new QueueTicket(conversationId, open.AgentId, 0, AnyServerOnline(open.Inbox, null, now));
        }

        var request = state.State.Waiting[conversationId];
        var position = 1 + _queues[QueueKey(request)].TakeWhile(r => r.ConversationId != conversationId).Count();
        return new QueueTicket(conversationId, null, position, AnyServerOnline(request.Inbox, request.Team, now));
    }

    /// <summary>Every waiting conversation's place in its own queue (1 = next).</summary>
    private IEnumerable<(string ConversationId, int Position)> Positions()
    {
        foreach (var queue in _queues.Values)
        {
            var position = 0;
            foreach (var request in queue)
            {
                yield return (request.ConversationId, ++position);
            }
        }
    }

    private Dictionary<string, int> PositionsById() => Positions().ToDictionary(p => p.ConversationId, p => p.Position, StringComparer.Ordinal);

    private bool IsEligible(string agentId, QueueRequest request, DateTimeOffset now) =>
        _agents.TryGetValue(agentId, out var agent)
        && StatusOf(agentId, now) == AgentStatus.Online
        && OpenCount(agentId) < agent.Capacity
        && Serves(agentId, request.Inbox, request.Team)
        && InboxHasRoom(request.Inbox);

    /// <summary>A team queue is served by the team's members; an inbox by its teams' members, or everyone if none.</summary>
    private bool Serves(string agentId, string inboxId, string? team)
    {
        if (team is { Length: > 0 })
        {
            return _teamMembers.TryGetValue(team, out var members) && members.Contains(agentId);
        }

        if (!_inboxes.TryGetValue(inboxId, out var inbox) || inbox.Teams.Length == 0)
        {
            return true;
        }

        foreach (var teamId in inbox.Teams)
        {
            if (_teamMembers.TryGetValue(teamId, out var members) && members.Contains(agentId))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The inbox's assignment policy; an inbox the configuration does not know gets the default.</summary>
    private string PolicyOf(string inboxId) =>
        _inboxes.TryGetValue(inboxId, out var inbox) ? inbox.AssignmentPolicy : AssignmentPolicies.LeastBusy;

    private bool InboxHasRoom(string inboxId) =>
        !_inboxes.TryGetValue(inboxId, out var inbox) || inbox.MaxOpen is not { } max || _openByInbox.GetValueOrDefault(inboxId) < max;

    private bool AnyFreeOnlineAgent(DateTimeOffset now)
    {
        foreach (var agentId in _agentIds)
        {
            if (StatusOf(agentId, now) == AgentStatus.Online && OpenCount(agentId) < _agents[agentId].Capacity)
            {
                return true;
            }
        }

        return false;
    }

    private bool AnyServerOnline(string inboxId, string? team, DateTimeOffset now)
    {
        foreach (var agentId in _agentIds)
        {
            if (StatusOf(agentId, now) == AgentStatus.Online && Serves(agentId, inboxId, team))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The last reported status while it is fresh; offline once the reports stop.</summary>
    private AgentStatus StatusOf(string agentId, DateTimeOffset now) =>
        _statuses.TryGetValue(agentId, out var report) && now - report.At <= _options.StatusExpiry ? report.Status : AgentStatus.Offline;

    private int OpenCount(string agentId) => _openByAgent.TryGetValue(agentId, out var open) ? open.Count : 0;

    private IEnumerable<string> OpenOf(string agentId) => _openByAgent.TryGetValue(agentId, out var open) ? open : [];

    private static string QueueKey(QueueRequest request) =>
        request.Team is { Length: > 0 } team ? "team/" + team : "inbox/" + request.Inbox;

    private static bool SamePlace(QueueRequest a, QueueRequest b) =>
        a.Inbox == b.Inbox && a.Team == b.Team && ConversationPriority.Rank(a.Priority) == ConversationPriority.Rank(b.Priority);

    private void IndexConfig(DispatchConfig? config)
    {
        _inboxes = (config?.Inboxes ?? []).ToDictionary(i => i.InboxId, StringComparer.Ordinal);
        _teamMembers = (config?.Teams ?? []).ToDictionary(t => t.TeamId, t => new HashSet<string>(t.AgentIds, StringComparer.Ordinal), StringComparer.Ordinal);
        _agents = (config?.Agents ?? []).ToDictionary(a => a.AgentId, StringComparer.Ordinal);
        _agentIds = [.. _agents.Keys.Order(StringComparer.Ordinal)];
    }

    private void IndexWaiting(QueueRequest request)
    {
        _waiting.Add(request);
        var key = QueueKey(request);
        if (!_queues.TryGetValue(key, out var queue))
        {
            _queues[key] = queue = new SortedSet<QueueRequest>(WaitingOrder.Instance);
        }

        queue.Add(request);
    }

    private void IndexOpen(string conversationId, OpenAssignment open)
    {
        if (!_openByAgent.TryGetValue(open.AgentId, out var set))
        {
            _openByAgent[open.AgentId] = set = new HashSet<string>(StringComparer.Ordinal);
        }

        set.Add(conversationId);
        _openByInbox[open.Inbox] = _openByInbox.GetValueOrDefault(open.Inbox) + 1;
    }

    private readonly record struct StatusReport(AgentStatus Status, DateTimeOffset At);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tenant {Tenant}: conversation {ConversationId} assigned to {AgentId}")]
    private static partial void LogAssigned(ILogger logger, string tenant, string conversationId, string agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tenant {Tenant}: agent {AgentId} is {Status}")]
    private static partial void LogStatus(ILogger logger, string tenant, string agentId, AgentStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {Tenant}: agent {AgentId} sent no status in time and counts as offline")]
    private static partial void LogStatusExpired(ILogger logger, string tenant, string agentId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {Tenant}: the dispatcher's state could not be written; reloading")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string tenant);
}
