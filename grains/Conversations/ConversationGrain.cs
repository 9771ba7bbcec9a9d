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
/// inside the idempotency window get the original ack and create nothing.
/// </summary>
public sealed partial class ConversationGrain(
    [PersistentState("conversation", KefuStorage.Name)] IPersistentState<ConversationState> state,
    IMessageStore store,
    IConversationDirectory directory,
    GatewayPusher pusher,
    IOptions<ConversationOptions> options,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain
{
    internal const int MaxPage = 500;

    private readonly ConversationOptions _options = options.Value;
    private readonly List<ChatMessage> _recent = [];
    private readonly Dictionary<string, SendAck> _acks = new(StringComparer.Ordinal);
    private readonly Queue<string> _ackOrder = new();
    private readonly Dictionary<string, ParticipantPresence> _presence = new(StringComparer.Ordinal);
    private Dictionary<string, string[]>? _routes;
    private string _tenant = string.Empty;
    private string _id = string.Empty;
    private long _lastSeq;

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
            state.State.Created = true;
            state.State.Inbox = command.Inbox;
            state.State.VisitorId = command.VisitorId;
            state.State.VisitorName = command.VisitorName;
            state.State.Status = ConversationStatus.Open;
            state.State.CreatedAt = time.GetUtcNow();
            await state.WriteStateAsync();
            ApplyPresence(command.VisitorPresence);
            await PublishChangedAsync();
        }
        else
        {
            // A retried start (the first one may have failed after the state write): make sure the directory has it.
            await directory.UpsertAsync(Summary());
        }

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

        var dedupKey = string.Concat(caller.ParticipantKey, "\n", command.ClientMsgId);
        if (_acks.TryGetValue(dedupKey, out var earlier))
        {
            return earlier;
        }

        // Whole microseconds: what MySQL's DATETIME(6) keeps, so an ack and the stored history always agree.
        var now = time.GetUtcNow();
        now = now.AddTicks(-(now.UtcTicks % 10));
        var message = new ChatMessage(_id, Ulid.NewUlid(now), _lastSeq + 1, caller.AsSender(), command.Text, now, command.ClientMsgId);
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
            // The write may or may not have landed: re-read the truth so seq and the retry window match the store.
            // If even that fails (the store is down), this activation's view cannot be trusted: let a new one read it.
            LogAppendFailed(logger, ex, _id, message.Seq);
            try
            {
                await ReloadFromStoreAsync(CancellationToken.None);
            }
            catch (Exception reloadFailure)
            {
                LogAppendFailed(logger, reloadFailure, _id, message.Seq);
                DeactivateOnIdle();
            }

            throw;
        }

        var ack = Remember(message);
        Push(new MessageEvent(message), command.ConnectionId, excludeParticipant: null);
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

        var changed = false;
        if (!state.State.Agents.ContainsKey(agent.Id))
        {
            state.State.Agents[agent.Id] = new ConversationAgent(agent.Name, agent.IsAdmin);
            changed = true;
        }

        if (state.State.AssigneeId is null)
        {
            state.State.AssigneeId = agent.Id;
            changed = true;
        }

        ApplyPresence(presence);
        if (changed)
        {
            await state.WriteStateAsync();
            await PublishChangedAsync();
        }

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
        if (seq <= current)
        {
            return current;
        }

        state.State.ReadMarks[key] = seq;
        await state.WriteStateAsync();
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

    public Task<ConversationSummary?> GetSummary() => Task.FromResult(state.State.Created ? Summary() : null);

    public Task Assigned(string agentId) => throw new NotImplementedException();

    public Task QueuePositionChanged(int position) => throw new NotImplementedException();

    public Task<Outcome<ConversationSummary>> ChangeStatus(Caller caller, string status, DateTimeOffset? snoozedUntil) => throw new NotImplementedException();

    public Task<Outcome<ConversationSummary>> Transfer(Caller caller, string? toAgentId, string? toTeamId) => throw new NotImplementedException();

    public Task<Outcome<ConversationSummary>> Label(Caller caller, string[]? tags, string? priority) => throw new NotImplementedException();

    public Task<Outcome<InternalNote>> AddNote(Caller caller, string text) => throw new NotImplementedException();

    public Task<Outcome<InternalNote[]>> GetNotes(Caller caller) => throw new NotImplementedException();

    public Task<Outcome<ConversationSummary>> Rate(Caller visitor, int rating, string? comment) => throw new NotImplementedException();

    private KefuError? Refuse(Caller caller, bool mustParticipate)
    {
        if (!state.State.Created || caller.Tenant != _tenant)
        {
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
        if (_recent.Count >= 2 * _options.RecentWindow)
        {
            _recent.RemoveRange(0, _recent.Count - _options.RecentWindow);
        }

        var ack = new SendAck(message.ClientMsgId ?? string.Empty, _id, message.MessageId, message.Seq, message.Ts);
        if (message.ClientMsgId is { } clientMsgId)
        {
            var key = string.Concat(ParticipantKeys.Key(_tenant, message.Sender.Role, message.Sender.Id), "\n", clientMsgId);
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

    private async Task ReloadFromStoreAsync(CancellationToken cancellationToken)
    {
        // Enough history to answer every retry inside the idempotency window, of which the newest part stays as the
        // recent-message window. Read first: a failed read leaves the current view as it was.
        var latest = await store.ReadLatestAsync(_tenant, _id, Math.Max(_options.RecentWindow, _options.IdempotencyWindow), cancellationToken);
        _recent.Clear();
        _acks.Clear();
        _ackOrder.Clear();
        _lastSeq = 0;
        foreach (var message in latest)
        {
            Remember(message);
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

    private async Task PublishChangedAsync()
    {
        var summary = Summary();
        await directory.UpsertAsync(summary);
        Push(new ConversationEvent(summary), excludeConnection: null, excludeParticipant: null);
        _ = GrainFactory.GetGrain<ITenantGrain>(_tenant).ConversationChanged(summary);
    }

    private ConversationSummary Summary()
    {
        var s = state.State;
        return new ConversationSummary(_id, _tenant, s.Inbox, s.VisitorId, s.VisitorName, s.Status, s.AssigneeId, _lastSeq, s.CreatedAt, [.. s.Agents.Keys]);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending seq {Seq} to conversation {ConversationId} failed")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, string conversationId, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Presence lookup for conversation {ConversationId} failed")]
    private static partial void LogPresenceLookupFailed(ILogger logger, Exception exception, string conversationId);
}
