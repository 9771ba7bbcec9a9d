using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Directory;
using Kefu.Grains.Hosting;
using Kefu.Grains.Push;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Conversations;

/// <summary>
/// One conversation. Not reentrant: a send assigns seq = last + 1, awaits the durable append, and only then acks and
/// pushes, so seq is gap-free and nothing is delivered before it is stored. Retries of a (sender, clientMsgId) pair
/// inside the idempotency window get the original ack and create nothing. Its lifecycle (queue, assignment, status,
/// transfer, labels, notes, rating) is in ConversationGrain.Lifecycle.cs.
/// </summary>
public sealed partial class ConversationGrain(
    [PersistentState("conversation", KefuStorage.Name)] IPersistentState<ConversationState> state,
    IMessageStore store,
    IConversationDirectory directory,
    GatewayPusher pusher,
    IOptions<ConversationOptions> options,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain, IRemindable
{
    internal const int MaxPage = 500;

    private readonly ConversationOptions _options = options.Value;
    private readonly List<ChatMessage> _recent = [];
    private readonly Dictionary<AckKey, SendAck> _acks = [];
    private readonly Queue<AckKey> _ackOrder = new();
    private readonly Dictionary<string, ParticipantPresence> _presence = new(StringComparer.Ordinal);
    private Dictionary<string, string[]>? _routes;
    private string _tenant = string.Empty;
    private string _id = string.Empty;
    private long _lastSeq;

    /// <summary>Read marks advanced by a sender's own messages and not yet written (they ride along with the next write).</summary>
    private bool _readMarksDirty;

    private string VisitorKey => ParticipantKeys.Key(_tenant, ParticipantRole.Visitor, state.State.VisitorId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenant, _id) = Tenancy.Split(this.GetPrimaryKeyString());
        if (!state.State.Created)
        {
            return;
        }

        await ReloadFromStoreAsync(cancellationToken);
        await FetchPresenceAsync();
    }

    public async Task<ConversationSummary> Start(StartConversation command)
    {
        if (!state.State.Created)
        {
            var now = time.GetUtcNow();
            state.State.Created = true;
            state.State.Inbox = command.Inbox;
            state.State.VisitorId = command.VisitorId;
            state.State.VisitorName = command.VisitorName;
            state.State.Status = ConversationStatus.Queued;
            state.State.CreatedAt = now;
            state.State.QueuedAt = now;

            // Exists before the dispatcher hears of it, so an assignment never reaches a conversation that is not there.
            await WriteStateAsync();
            ApplyPresence(command.VisitorPresence);
        }
        else if (state.State.Status != ConversationStatus.Queued || state.State.QueuePosition is not null)
        {
            // A retried start after the queue answered: make sure the directory has it.
            await directory.UpsertAsync(Summary());
            return Summary();
        }

        // First start, or a retry of one whose enqueue failed: the dispatcher's Enqueue is idempotent.
        var assigned = await EnqueueAsync(preferredAgentId: null);
        await WriteStateAsync();
        await PublishChangedAsync();
        await AfterAssignmentAsync(assigned);
        return Summary();
    }

    public async Task<Outcome<SendAck>> Send(SendMessage command)
    {
        var caller = command.Caller;
        if (Refuse(caller, mustParticipate: true) is { } refusal)
        {
            return refusal;
        }

        if (command.ClientMsgId is not { Length: >= 1 and <= 64 })
        {
            return KefuError.Invalid("clientMsgId must be 1 to 64 characters.");
        }

        if (string.IsNullOrWhiteSpace(command.Text))
        {
            return KefuError.Invalid("text must not be empty.");
        }

        if (command.Text.Length > _options.MaxTextLength)
        {
            return new KefuError(ErrorCodes.TextTooLong, $"text is longer than {_options.MaxTextLength} characters.");
        }

        if (_acks.TryGetValue(new AckKey(caller.Role, caller.Id, command.ClientMsgId), out var earlier))
        {
            return earlier;
        }

        // A visitor writing again reopens a pending, snoozed or resolved conversation, before the message is stored:
        // if the queue cannot be reached the send fails and is retried, and no message waits where nobody looks.
        if (caller.Role == ParticipantRole.Visitor && IsWaitingOnVisitorOrDone(state.State.Status))
        {
            await ReopenAsync();
        }

        // Whole microseconds: what MySQL's DATETIME(6) keeps, so an ack and the stored history always agree.
        var now = time.GetUtcNow();
        now = now.AddTicks(-(now.UtcTicks % 10));
        var message = new ChatMessage(_id, Ulid.NewUlid(now), _lastSeq + 1, caller.AsSender(), command.Text, now, command.ClientMsgId, command.Content);
        try
        {
            await store.AppendAsync(_tenant, message);
        }
        catch (DuplicateClientMessageException duplicate)
        {
            // Older than the in-memory window, but the store remembers every clientMsgId: answer with the original.
            await ReloadFromStoreAsync(CancellationToken.None);
            var original = duplicate.Existing;
            return new SendAck(command.ClientMsgId, _id, original.MessageId, original.Seq, original.Ts);
        }
        catch (Exception ex)
        {
            await RecoverFromFailedAppendAsync(ex, message.Seq);
            throw;
        }

        var ack = Remember(message);
        Push(new MessageEvent(message), command.ConnectionId, excludeParticipant: null);
        ActivityChanged();

        // The sender has read everything up to its own message.
        var readKey = caller.ParticipantKey;
        if (state.State.ReadMarks.GetValueOrDefault(readKey) < message.Seq)
        {
            state.State.ReadMarks[readKey] = message.Seq;
            _readMarksDirty = true;
        }

        if (caller.Role == ParticipantRole.Agent && state.State.FirstResponseAt is null)
        {
            state.State.FirstResponseAt = message.Ts;
            await TryPersistAfterSendAsync();
        }

        if (caller.Role == ParticipantRole.Visitor && state.State.AwayMessageDue)
        {
            await SendAwayMessageAsync();
        }

        return ack;
    }

    public async Task<Outcome<JoinResult>> Join(Caller agent, ParticipantPresence presence)
    {
        if (agent.Role != ParticipantRole.Agent)
        {
            return KefuError.NotAllowed("Only agents join conversations.");
        }

        if (Refuse(agent, mustParticipate: false) is { } refusal)
        {
            return refusal;
        }

        if (state.State.Agents.ContainsKey(agent.Id))
        {
            // Joining again is harmless: it refreshes where the agent is and changes nothing else.
            ApplyPresence(presence);
            return new JoinResult(_id, _lastSeq);
        }

        if (NeedsAgent)
        {
            // Taking a waiting conversation is an assignment like any other: the dispatcher checks capacity.
            var claim = await Dispatcher.Claim(Request(preferredAgentId: null), agent.Id, force: agent.IsAdmin);
            if (claim.Error is { } refused)
            {
                return refused;
            }

            state.State.Agents[agent.Id] = new ConversationAgent(agent.Name, agent.IsAdmin);
            ApplyPresence(presence);
            var assigned = await ApplyTicketAsync(claim.Value! with { AssigneeId = claim.Value!.AssigneeId ?? agent.Id });
            await WriteStateAsync();
            await PublishChangedAsync();
            await AfterAssignmentAsync(assigned); // the agent is a participant already: no re-join
            return new JoinResult(_id, _lastSeq);
        }

        // Assigned (or past): the agent joins as a participant; the assignee stays.
        state.State.Agents[agent.Id] = new ConversationAgent(agent.Name, agent.IsAdmin);
        ApplyPresence(presence);
        await WriteStateAsync();
        await PublishChangedAsync();
        return new JoinResult(_id, _lastSeq);
    }

    public async Task<Outcome<MessagePage>> GetMessages(Caller caller, long afterSeq, int limit)
    {
        if (Refuse(caller, mustParticipate: false) is { } refusal)
        {
            return refusal;
        }

        afterSeq = Math.Max(0, afterSeq);
        limit = Math.Clamp(limit, 1, MaxPage);
        if (afterSeq >= _lastSeq)
        {
            return new MessagePage([], _lastSeq);
        }

        var firstRecent = _recent.Count > 0 ? _recent[0].Seq : _lastSeq + 1;
        if (afterSeq + 1 >= firstRecent)
        {
            var start = (int)(afterSeq + 1 - firstRecent);
            var count = Math.Min(limit, _recent.Count - start);
            return new MessagePage([.. _recent.GetRange(start, count)], _lastSeq);
        }

        var fromStore = await store.ReadAfterAsync(_tenant, _id, afterSeq, limit);
        return new MessagePage([.. fromStore], _lastSeq);
    }

    public Task<Outcome<bool>> Typing(Caller caller, bool on)
    {
        if (Refuse(caller, mustParticipate: true) is { } refusal)
        {
            return Task.FromResult<Outcome<bool>>(refusal);
        }

        Push(new TypingEvent(_id, caller.AsSender(), on), excludeConnection: null, excludeParticipant: caller.ParticipantKey);
        return Task.FromResult<Outcome<bool>>(on);
    }

    public async Task<Outcome<long>> MarkRead(Caller caller, long seq)
    {
        if (Refuse(caller, mustParticipate: true) is { } refusal)
        {
            return refusal;
        }

        seq = Math.Clamp(seq, 0, _lastSeq);
        var key = caller.ParticipantKey;
        var current = state.State.ReadMarks.GetValueOrDefault(key);
        if (seq < current || seq == 0)
        {
            return current;
        }

        // Equal: the mark got there by the reader's own send (which is not announced); the explicit read is.
        if (seq > current)
        {
            state.State.ReadMarks[key] = seq;
            await WriteStateAsync();
            if (caller.Role == ParticipantRole.Agent)
            {
                _activity.AgentsRead(seq);
                ActivityChanged();
            }
        }

        Push(new ReadEvent(_id, caller.AsSender(), seq), excludeConnection: null, excludeParticipant: key);
        return seq;
    }

    public Task UpdatePresence(ParticipantPresence presence)
    {
        if (state.State.Created && IsParticipantKey(presence.ParticipantKey))
        {
            ApplyPresence(presence);
        }

        return Task.CompletedTask;
    }

    public Task<ConversationSummary?> GetSummary()
    {
        ForgetIfNotCreated();
        return Task.FromResult(state.State.Created ? Summary() : null);
    }

    /// <summary>
    /// A call for a conversation that does not exist (a random or stale id) must not keep an activation for the
    /// collection age (issue #12): this one goes as soon as the call is answered. <see cref="Start"/> never asks.
    /// </summary>
    private void ForgetIfNotCreated()
    {
        if (!state.State.Created)
        {
            DeactivateOnIdle();
        }
    }

    private KefuError? Refuse(Caller caller, bool mustParticipate)
    {
        if (!state.State.Created || caller.Tenant != _tenant)
        {
            ForgetIfNotCreated();
            return KefuError.NotFound("Conversation");
        }

        var s = state.State;
        return caller.Role switch
        {
            ParticipantRole.Visitor when caller.Id == s.VisitorId => null,
            ParticipantRole.Visitor => KefuError.NotAllowed("This conversation belongs to another visitor."),
            ParticipantRole.Agent when s.Agents.ContainsKey(caller.Id) => null,
            ParticipantRole.Agent when mustParticipate => KefuError.NotAllowed("Join the conversation first."),
            ParticipantRole.Agent when caller.IsAdmin || s.AssigneeId is null || s.AssigneeId == caller.Id => null,
            ParticipantRole.Agent => KefuError.NotAllowed("This conversation is assigned to another agent."),
            _ => KefuError.NotAllowed("Not allowed."),
        };
    }

    private bool IsParticipantKey(string key)
    {
        var agentPrefix = ParticipantKeys.Key(_tenant, ParticipantRole.Agent, string.Empty);
        return key == VisitorKey || (key.StartsWith(agentPrefix, StringComparison.Ordinal) && state.State.Agents.ContainsKey(key[agentPrefix.Length..]));
    }

    private SendAck Remember(ChatMessage message)
    {
        _lastSeq = message.Seq;
        _recent.Add(message);
        _activity.Add(message);
        if (_recent.Count >= 2 * _options.RecentWindow)
        {
            _recent.RemoveRange(0, _recent.Count - _options.RecentWindow);
        }

        var ack = new SendAck(message.ClientMsgId ?? string.Empty, _id, message.MessageId, message.Seq, message.Ts);
        if (message.ClientMsgId is { } clientMsgId)
        {
            var key = new AckKey(message.Sender.Role, message.Sender.Id, clientMsgId);
            if (_acks.TryAdd(key, ack))
            {
                _ackOrder.Enqueue(key);
                while (_ackOrder.Count > _options.IdempotencyWindow)
                {
                    _acks.Remove(_ackOrder.Dequeue());
                }
            }
        }

        return ack;
    }

    /// <summary>
    /// The write may or may not have landed: re-read the truth so seq and the retry window match the store. If even
    /// that fails (the store is down), this activation's view cannot be trusted: let a new one read it.
    /// </summary>
    private async Task RecoverFromFailedAppendAsync(Exception failure, long seq)
    {
        LogAppendFailed(logger, failure, _id, seq);
        try
        {
            await ReloadFromStoreAsync(CancellationToken.None);
        }
        catch (Exception reloadFailure)
        {
            LogAppendFailed(logger, reloadFailure, _id, seq);
            DeactivateOnIdle();
        }
    }

    private async Task ReloadFromStoreAsync(CancellationToken cancellationToken)
    {
        // Enough history to answer every retry inside the idempotency window, of which the newest part stays as the
        // recent-message window. Read first: a failed read leaves the current view as it was.
        var latest = await store.ReadLatestAsync(_tenant, _id, Math.Max(_options.RecentWindow, _options.IdempotencyWindow), cancellationToken);
        _recent.Clear();
        _acks.Clear();
        _ackOrder.Clear();
        _lastSeq = 0;
        _activity = new ConversationActivity(AgentsReadMark());
        foreach (var message in latest)
        {
            Remember(message);

            // A sender has read up to its own latest message (marks advanced by sends are written lazily).
            if (message.Sender.Role is ParticipantRole.Visitor or ParticipantRole.Agent)
            {
                var key = ParticipantKeys.Key(_tenant, message.Sender.Role, message.Sender.Id);
                if (state.State.ReadMarks.GetValueOrDefault(key) < message.Seq)
                {
                    state.State.ReadMarks[key] = message.Seq;
                    _readMarksDirty = true;
                }
            }
        }

        if (_recent.Count > _options.RecentWindow)
        {
            _recent.RemoveRange(0, _recent.Count - _options.RecentWindow);
        }
    }

    private async Task FetchPresenceAsync()
    {
        var lookups = new List<Task<ParticipantPresence>>
        {
            GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(_tenant, state.State.VisitorId)).GetPresence(),
        };
        lookups.AddRange(state.State.Agents.Keys.Select(a => GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(_tenant, a)).GetPresence()));
        foreach (var lookup in lookups)
        {
            try
            {
                ApplyPresence(await lookup);
            }
            catch (Exception ex)
            {
                // Presence is refreshed by the participant's next change; clients re-sync what they miss meanwhile.
                LogPresenceLookupFailed(logger, ex, _id);
            }
        }
    }

    private void ApplyPresence(ParticipantPresence presence)
    {
        if (_presence.TryGetValue(presence.ParticipantKey, out var known) && known.Version >= presence.Version)
        {
            return;
        }

        _presence[presence.ParticipantKey] = presence;
        _routes = null;
    }

    private Dictionary<string, string[]> Routes() => _routes ??= GroupByGateway(null);

    private Dictionary<string, string[]> GroupByGateway(string? excludeParticipant)
    {
        var byGateway = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (key, presence) in _presence)
        {
            if (key == excludeParticipant)
            {
                continue;
            }

            foreach (var gateway in presence.Gateways)
            {
                if (!byGateway.TryGetValue(gateway, out var recipients))
                {
                    byGateway[gateway] = recipients = [];
                }

                recipients.Add(key);
            }
        }

        return byGateway.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
    }

    private void Push(ChatEvent @event, string? excludeConnection, string? excludeParticipant)
    {
        var routes = excludeParticipant is null ? Routes() : GroupByGateway(excludeParticipant);
        foreach (var (gateway, recipients) in routes)
        {
            pusher.Push(gateway, new PushEnvelope(recipients, excludeConnection, @event));
        }
    }

    /// <summary>The directory row, the participants and the tenant's agent consoles learn the new summary.</summary>
    private async Task PublishChangedAsync()
    {
        var summary = Summary();
        await directory.UpsertAsync(summary);
        DirectoryWrites.Written(time.GetUtcNow());
        AnnounceSummary(summary);
    }

    /// <summary>Pushes the summary without touching the directory (for what the directory does not keep).</summary>
    private void AnnounceSummary(ConversationSummary summary)
    {
        PushSummary(summary);
        _ = GrainFactory.GetGrain<ITenantGrain>(_tenant).ConversationChanged(summary);
    }

    /// <summary>Agents get the whole summary; the visitor gets one without agent-side labels or other read marks.</summary>
    private void PushSummary(ConversationSummary summary)
    {
        var visitorKey = VisitorKey;
        foreach (var (gateway, recipients) in GroupByGateway(visitorKey))
        {
            pusher.Push(gateway, new PushEnvelope(recipients, null, new ConversationEvent(summary)));
        }

        if (_presence.TryGetValue(visitorKey, out var visitor) && visitor.Gateways.Length > 0)
        {
            var forVisitor = new ConversationEvent(ForVisitor(summary));
            foreach (var gateway in visitor.Gateways)
            {
                pusher.Push(gateway, new PushEnvelope([visitorKey], null, forVisitor));
            }
        }
    }

    /// <summary>Pushes to the visitor's connections only.</summary>
    private void PushToVisitor(ChatEvent @event)
    {
        var visitorKey = VisitorKey;
        if (_presence.TryGetValue(visitorKey, out var visitor))
        {
            foreach (var gateway in visitor.Gateways)
            {
                pusher.Push(gateway, new PushEnvelope([visitorKey], null, @event));
            }
        }
    }

    /// <summary>Pushes to the connections of the conversation's agents only, never the visitor.</summary>
    private void PushToAgents(ChatEvent @event)
    {
        foreach (var (gateway, recipients) in GroupByGateway(VisitorKey))
        {
            pusher.Push(gateway, new PushEnvelope(recipients, null, @event));
        }
    }

    private ConversationSummary ForVisitor(ConversationSummary summary)
    {
        var visitorKey = VisitorKey;
        var ownMark = summary.ReadMarks?.GetValueOrDefault(visitorKey) ?? 0;
        return summary with
        {
            Team = null,
            Tags = [],
            AgentIds = [],
            Priority = ConversationPriority.Normal, // the priority agents set is theirs (issue #12)
            Unread = 0,
            ReadMarks = ownMark > 0 ? new Dictionary<string, long>(StringComparer.Ordinal) { [visitorKey] = ownMark } : [],
        };
    }

    private ConversationSummary Summary()
    {
        var s = state.State;
        return new ConversationSummary(
            _id,
            _tenant,
            s.Inbox,
            s.VisitorId,
            s.VisitorName,
            s.Status,
            s.AssigneeId,
            _lastSeq,
            s.CreatedAt,
            [.. s.Agents.Keys],
            s.Team,
            s.Priority,
            [.. s.Tags],
            s.Status == ConversationStatus.Queued ? s.QueuePosition : null,
            s.Status == ConversationStatus.Snoozed ? s.SnoozedUntil : null,
            s.FirstResponseAt,
            s.ResolvedAt,
            s.Csat,
            new Dictionary<string, long>(s.ReadMarks, StringComparer.Ordinal),
            _activity.Preview,
            _activity.LastActivityAt,
            _activity.Unread,
            s.AssigneeId is { } assignee ? s.Agents.GetValueOrDefault(assignee)?.Name : null,
            s.Status == ConversationStatus.Queued ? s.QueuedAt ?? s.CreatedAt : null);
    }

    /// <summary>Every state write goes through here: it also persists read marks advanced by sends.</summary>
    private async Task WriteStateAsync()
    {
        await state.WriteStateAsync();
        _readMarksDirty = false;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await FlushDirectoryOnDeactivateAsync(cancellationToken);
        if (_readMarksDirty && state.State.Created)
        {
            try
            {
                await WriteStateAsync();
            }
            catch (Exception ex)
            {
                // Only read marks are at stake, and activation re-derives them from each sender's latest message.
                LogStateWriteFailed(logger, ex, _id);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending seq {Seq} to conversation {ConversationId} failed")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string conversationId, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence lookup for conversation {ConversationId} failed")]
    private static partial void LogPresenceLookupFailed(ILogger logger, Exception exception, string conversationId);

    /// <summary>A send's identity for retries: the sender (the grain's own tenant) and its clientMsgId. A struct key,
    /// so remembering a send allocates no key string (this window holds thousands per busy conversation).</summary>
    private readonly record struct AckKey(ParticipantRole Role, string SenderId, string ClientMsgId);
}
