using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events;
using Kefu.Grains.Events.Sinks;
using Kefu.Grains.Hosting;
using Kefu.Grains.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Conversations;

/// <summary>
/// One conversation. It decides and commits; everything that follows from a change (push, directory, tenant
/// consoles, agents' rosters, integrations) hangs off the domain events committed with it, handed to the sinks after
/// the commit (ConversationGrain.Commit.cs, docs/architecture.md "Events"). Not reentrant: a send assigns
/// seq = last + 1, awaits the durable append of the message with its event, and only then acks and hands it on, so
/// seq is gap-free and nothing is delivered before it is stored. Retries of a (sender, clientMsgId) pair inside the
/// idempotency window get the original ack and create nothing. Plain classes hold its concerns: the message window
/// (<see cref="MessageWindow"/>), who listens (<see cref="ConversationAudience"/>), the outbox
/// (<see cref="EventOutbox"/>) and the lifecycle's events (<see cref="LifecycleEvents"/>); the lifecycle's
/// operations are in ConversationGrain.Lifecycle.cs.
/// </summary>
public sealed partial class ConversationGrain(
    [PersistentState("conversation", KefuStorage.Name)] IPersistentState<ConversationState> state,
    IMessageStore store,
    IEventLog eventLog,
    ConversationSinks sinks,
    IOptions<ConversationOptions> options,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain, IRemindable
{
    internal const int MaxPage = 500;

    private readonly ConversationOptions _options = options.Value;
    private MessageWindow? _window;
    private ConversationAudience? _audience;
    private EventOutbox? _outbox;
    private ConversationActivity _activity = new();
    private string _tenant = string.Empty;
    private string _id = string.Empty;

    /// <summary>Read marks advanced by a sender's own messages and not yet written (they ride along with the next write).</summary>
    private bool _readMarksDirty;

    private MessageWindow Window => _window ??= new MessageWindow(_options.RecentWindow, _options.IdempotencyWindow);

    /// <summary>Created once the visitor is known (its key is part of every snapshot).</summary>
    private ConversationAudience Audience => _audience ??= new ConversationAudience(VisitorKey);

    private EventOutbox Outbox => _outbox ??= new EventOutbox(_tenant, _id, state.State);

    private string VisitorKey => ParticipantKeys.Key(_tenant, ParticipantRole.Visitor, state.State.VisitorId);

    private long LastSeq => Window.LastSeq;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        (_tenant, _id) = Tenancy.Split(this.GetPrimaryKeyString());
        if (!state.State.Created)
        {
            return;
        }

        await ReloadFromStoreAsync(cancellationToken);
        await FetchPresenceAsync(agentsOnly: false);
        await RelayLeftoversAsync();
    }

    public async Task<ConversationSummary> Start(StartConversation command)
    {
        DomainEvent[]? created = null;
        if (!state.State.Created)
        {
            var now = time.GetUtcNow();
            var before = LifecycleFacts.Of(state.State);
            state.State.Created = true;
            state.State.Inbox = command.Inbox;
            state.State.VisitorId = command.VisitorId;
            state.State.VisitorName = command.VisitorName;
            state.State.Status = ConversationStatus.Queued;
            state.State.CreatedAt = now;
            state.State.QueuedAt = now;
            _audience = null; // the visitor is known now
            Audience.Apply(command.VisitorPresence);

            // Exists before the dispatcher hears of it, so an assignment never reaches a conversation that is not there.
            // Its event is relayed and handed on with the queue's answer, just below: consoles hear of the new
            // conversation once, as queued or assigned (if the queue cannot be reached, the retried start tells them).
            created = await CommitAsync(before, VisitorCause(command.VisitorId, command.VisitorName), stated: s => new ConversationCreated(s), followedInTurn: true);
        }
        else if (state.State.Status != ConversationStatus.Queued || state.State.QueuePosition is not null)
        {
            // A retried start after the queue answered: make sure the directory has it.
            sinks.Committed(Change([]));
            return Summary();
        }

        // First start, or a retry of one whose enqueue failed: the dispatcher's Enqueue is idempotent.
        var queued = LifecycleFacts.Of(state.State);
        var assigned = await EnqueueAsync(preferredAgentId: null);
        await CommitAsync(queued, VisitorCause(command.VisitorId, command.VisitorName), DispatcherCause, earlier: created);
        await AfterAssignmentAsync(assigned);
        return Summary();
    }

    public async Task<Outcome<SendAck>> Send(SendMessage command, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested(); // a rule whose deadline passed while the call waited here
        var caller = command.Caller;
        if ((caller.Role == ParticipantRole.Bot ? RefuseBot(caller) : Refuse(caller, mustParticipate: true)) is { } refusal)
        {
            return refusal;
        }

        // Typed content checked and settled first (an attachment's text is its name; the legacy text form becomes
        // attachment content), so the text rules below apply to what is stored.
        var normalized = MessageContentRules.Normalize(command);
        if (normalized.Error is { } invalid)
        {
            return invalid;
        }

        command = normalized.Value!;

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

        if (Window.TryGetAck(caller.Role, caller.Id, command.ClientMsgId, out var earlier))
        {
            return earlier;
        }

        // A visitor writing again reopens a pending, snoozed or resolved conversation, before the message is stored:
        // if the queue cannot be reached the send fails and is retried, and no message waits where nobody looks.
        if (caller.Role == ParticipantRole.Visitor && LifecycleRules.IsWaitingOnVisitorOrDone(state.State.Status))
        {
            await ReopenAsync(Causation.Of(caller));
        }

        var now = WholeMicroseconds(time.GetUtcNow());
        var message = new ChatMessage(_id, Ulid.NewUlid(now), LastSeq + 1, caller.AsSender(), command.Text, now, command.ClientMsgId, command.Content);
        ChatMessage? original = null;
        if (await AppendAsync(message, Causation.Of(caller), d => original = d) is not { } created)
        {
            return new SendAck(command.ClientMsgId, _id, original!.MessageId, original.Seq, original.Ts);
        }

        var ack = Window.Remember(message);
        _activity.Add(message);

        // The sender has read everything up to its own message.
        var readKey = caller.ParticipantKey;
        if (state.State.ReadMarks.GetValueOrDefault(readKey) < message.Seq)
        {
            state.State.ReadMarks[readKey] = message.Seq;
            _readMarksDirty = true;
        }

        var firstResponse = caller.Role == ParticipantRole.Agent && state.State.FirstResponseAt is null;
        if (firstResponse)
        {
            state.State.FirstResponseAt = message.Ts;
        }

        sinks.Committed(Change([created], command.ConnectionId));
        if (firstResponse)
        {
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
            Audience.Apply(presence);
            return new JoinResult(_id, LastSeq);
        }

        var before = LifecycleFacts.Of(state.State);
        if (NeedsAgent)
        {
            // Taking a waiting conversation is an assignment like any other: the dispatcher checks capacity.
            var claim = await Dispatcher.Claim(Request(preferredAgentId: null), agent.Id, force: agent.IsAdmin);
            if (claim.Error is { } refused)
            {
                return refused;
            }

            state.State.Agents[agent.Id] = new ConversationAgent(agent.Name, agent.IsAdmin);
            Audience.Apply(presence);
            var assigned = await ApplyTicketAsync(claim.Value! with { AssigneeId = claim.Value!.AssigneeId ?? agent.Id });
            await CommitAsync(before, Causation.Of(agent));
            await AfterAssignmentAsync(assigned); // the agent is a participant already: no re-join
            return new JoinResult(_id, LastSeq);
        }

        // Assigned (or past): the agent joins as a participant; the assignee stays.
        state.State.Agents[agent.Id] = new ConversationAgent(agent.Name, agent.IsAdmin);
        Audience.Apply(presence);
        await CommitAsync(before, Causation.Of(agent));
        return new JoinResult(_id, LastSeq);
    }

    public async Task<Outcome<MessagePage>> GetMessages(Caller caller, long afterSeq, int limit)
    {
        if (Refuse(caller, mustParticipate: false) is { } refusal)
        {
            return refusal;
        }

        afterSeq = Math.Max(0, afterSeq);
        limit = Math.Clamp(limit, 1, MaxPage);
        if (Window.After(afterSeq, limit) is { } recent)
        {
            return new MessagePage(recent, LastSeq);
        }

        var fromStore = await store.ReadAfterAsync(_tenant, _id, afterSeq, limit);
        return new MessagePage([.. fromStore], LastSeq);
    }

    public Task<Outcome<bool>> Typing(Caller caller, bool on)
    {
        if (Refuse(caller, mustParticipate: true) is { } refusal)
        {
            return Task.FromResult<Outcome<bool>>(refusal);
        }

        sinks.Signal(Audience.Snapshot(), new TypingEvent(_id, caller.AsSender(), on), SignalAudience.Everyone, exceptParticipant: caller.ParticipantKey);
        return Task.FromResult<Outcome<bool>>(on);
    }

    public async Task<Outcome<long>> MarkRead(Caller caller, long seq)
    {
        if (Refuse(caller, mustParticipate: true) is { } refusal)
        {
            return refusal;
        }

        seq = Math.Clamp(seq, 0, LastSeq);
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
            await WriteStateAsync(staged: false);
            if (caller.Role == ParticipantRole.Agent)
            {
                _activity.AgentsRead(seq);
            }

            // No domain event: the list's row follows (unread, read marks).
            sinks.Committed(Change([]));
        }

        sinks.Signal(Audience.Snapshot(), new ReadEvent(_id, caller.AsSender(), seq), SignalAudience.Everyone, exceptParticipant: key);
        return seq;
    }

    public Task UpdatePresence(ParticipantPresence presence)
    {
        if (state.State.Created && IsParticipantKey(presence.ParticipantKey))
        {
            Audience.Apply(presence);
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

            // A service key of the tenant (issue #14): the gateway checked its scope and inbox restriction. A routing
            // rule of the tenant (issue #15) acts as its admin set it up to.
            _ when caller.IsServiceKey || IsRule(caller) => null,
            _ => KefuError.NotAllowed("Not allowed."),
        };
    }

    /// <summary>
    /// A bot or business system (INTEGRATION.md §4) writes into any conversation of its tenant without joining it: the
    /// gateway has checked its scope (and a key's inbox restriction). It does nothing else here.
    /// </summary>
    private KefuError? RefuseBot(Caller caller)
    {
        if (!state.State.Created || caller.Tenant != _tenant)
        {
            ForgetIfNotCreated();
            return KefuError.NotFound("Conversation");
        }

        return null;
    }

    /// <summary>A routing rule's caller (<see cref="Caller.ForRule"/>): only the silo makes one, never a gateway's token.</summary>
    private static bool IsRule(Caller caller) => caller.Role == ParticipantRole.Bot && caller.Cause?.Kind == Causation.Rule;

    private bool IsParticipantKey(string key)
    {
        var agentPrefix = ParticipantKeys.Key(_tenant, ParticipantRole.Agent, string.Empty);
        return key == VisitorKey || (key.StartsWith(agentPrefix, StringComparison.Ordinal) && state.State.Agents.ContainsKey(key[agentPrefix.Length..]));
    }

    private async Task ReloadFromStoreAsync(CancellationToken cancellationToken)
    {
        // Enough history to answer every retry inside the idempotency window, of which the newest part stays as the
        // recent-message window. Read first: a failed read leaves the current view as it was.
        var latest = await store.ReadLatestAsync(_tenant, _id, Window.RebuildCount, cancellationToken);
        Window.Clear();
        _activity = new ConversationActivity(AgentsReadMark());
        foreach (var message in latest)
        {
            Window.Remember(message);
            _activity.Add(message);

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

        Window.Trim();
        Outbox.Recover(LastSeq);
    }

    /// <summary>The highest read mark of the conversation's agents: what "unread" counts from.</summary>
    private long AgentsReadMark()
    {
        var agentPrefix = ParticipantKeys.Key(_tenant, ParticipantRole.Agent, string.Empty);
        long mark = 0;
        foreach (var (key, seq) in state.State.ReadMarks)
        {
            if (seq > mark && key.StartsWith(agentPrefix, StringComparison.Ordinal))
            {
                mark = seq;
            }
        }

        return mark;
    }

    /// <summary>Where the participants are connected (on activation; the agents again on a reopen).</summary>
    private async Task FetchPresenceAsync(bool agentsOnly)
    {
        var lookups = new List<Task<ParticipantPresence>>();
        if (!agentsOnly)
        {
            lookups.Add(GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(_tenant, state.State.VisitorId)).GetPresence());
        }

        lookups.AddRange(state.State.Agents.Keys.Select(a => GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(_tenant, a)).GetPresence()));
        foreach (var lookup in lookups)
        {
            try
            {
                Audience.Apply(await lookup);
            }
            catch (Exception ex)
            {
                // Presence is refreshed by the participant's next change; clients re-sync what they miss meanwhile.
                LogPresenceLookupFailed(logger, ex, _id);
            }
        }
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
            LastSeq,
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

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if ((_readMarksDirty || _relayedSinceWrite) && state.State.Created && !_stateUntrusted)
        {
            try
            {
                await WriteStateAsync(staged: false);
            }
            catch (Exception ex)
            {
                // Only read marks are at stake (activation re-derives them from each sender's latest message), and
                // relayed events that the next activation relays again (the log skips them).
                LogStateWriteFailed(logger, ex, _id);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence lookup for conversation {ConversationId} failed")]
    private static partial void LogPresenceLookupFailed(ILogger logger, Exception exception, string conversationId);
}
