using Kefu.Contracts.Events;
using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Events.Sinks;
using Microsoft.Extensions.Logging;

namespace Kefu.Grains.Conversations;

/// <summary>
/// The contact-centre lifecycle: queued → open → pending / snoozed → resolved (docs/contact-centre.md). Every
/// assignment is decided by the tenant's dispatcher; this grain asks it (awaited: the dispatcher never awaits a
/// conversation) and applies what it answers, and applies the dispatcher's one-way assignments idempotently.
/// </summary>
public sealed partial class ConversationGrain
{
    internal const string SnoozeReminder = "snooze";
    internal const int MaxNotes = 1_000;
    internal const string DefaultAwayMessage = DefaultTexts.AwayMessageEnglish;

    /// <summary>The away message's clientMsgId: the store's (sender, clientMsgId) uniqueness makes it once per conversation.</summary>
    internal const string AwayClientMsgId = "away-message";

    private static readonly Sender SystemSender = new(ParticipantRole.System, "system", null);

    private static readonly Causation AwayCause = Causation.Of("away-message");

    /// <summary>The smallest period Orleans accepts; the reminder is removed at its first useful tick.</summary>
    private static readonly TimeSpan SnoozeRetryPeriod = TimeSpan.FromMinutes(1);

    private IDispatcherGrain Dispatcher => GrainFactory.GetGrain<IDispatcherGrain>(_tenant);

    /// <summary>Waiting for an agent (or an old conversation that never had one): joining it takes it.</summary>
    private bool NeedsAgent => state.State.Status == ConversationStatus.Queued
        || (state.State.Status == ConversationStatus.Open && state.State.AssigneeId is null);

    public async Task Assigned(string agentId)
    {
        var s = state.State;
        if (!s.Created)
        {
            // Nothing here to assign: stop the re-sends and give the slot back.
            await ConfirmAsync(agentId);
            await ReleaseQuietlyAsync();
            ForgetIfNotCreated();
            return;
        }

        if (NeedsAgent)
        {
            var before = LifecycleFacts.Of(s);
            var assignment = await AssignAsync(agentId);
            await CommitAsync(before, DispatcherCause);
            await AfterAssignmentAsync(assignment);
            return;
        }

        if (s.Status == ConversationStatus.Open)
        {
            // Already applied (a re-send), or older than what the conversation since asked for: confirm either way.
            if (s.AssigneeId != agentId)
            {
                LogStaleAssignment(logger, _id, agentId, s.AssigneeId);
            }

            await ConfirmAsync(agentId);
            return;
        }

        // Pending, snoozed or resolved since: the conversation holds no slot, so neither may the dispatcher.
        LogStaleAssignment(logger, _id, agentId, s.Status);
        await ConfirmAsync(agentId);
        await ReleaseQuietlyAsync();
    }

    public Task QueuePositionChanged(int position)
    {
        var s = state.State;
        if (!s.Created || s.Status != ConversationStatus.Queued || s.QueuePosition == position)
        {
            return Task.CompletedTask;
        }

        // Kept in memory (and written with the next change): positions move often and the dispatcher has the truth.
        // Not a domain event either: consoles show it live, and the list's row follows.
        s.QueuePosition = position;
        sinks.Signal(Audience.Snapshot(), new QueueEvent(_id, position), SignalAudience.Visitor);
        sinks.Announce(Change([]));
        return Task.CompletedTask;
    }

    public async Task<Outcome<ConversationSummary>> ChangeStatus(Caller caller, string status, DateTimeOffset? snoozedUntil, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested(); // a rule whose deadline passed while the call waited here
        if (RefuseAgentAction(caller) is { } refusal)
        {
            return refusal;
        }

        var now = time.GetUtcNow();
        var s = state.State;
        if (LifecycleRules.StatusChange(s.Status, status, snoozedUntil, now) is { } refused)
        {
            return refused;
        }

        var before = LifecycleFacts.Of(s);
        var cause = Causation.Of(caller);
        var wasSnoozed = s.Status == ConversationStatus.Snoozed;
        switch (status)
        {
            case ConversationStatus.Open:
                await ReopenAsync(cause);
                return Summary();

            case ConversationStatus.Pending or ConversationStatus.Snoozed:
                if (status == ConversationStatus.Snoozed)
                {
                    // The wake-up first: a snooze without a reminder would never end.
                    await this.RegisterOrUpdateReminder(SnoozeReminder, snoozedUntil!.Value - now, SnoozeRetryPeriod);
                }

                await Dispatcher.Release(_id);
                s.Status = status;
                s.SnoozedUntil = snoozedUntil;
                s.QueuePosition = null;
                await CommitAsync(before, cause);
                if (wasSnoozed && status != ConversationStatus.Snoozed)
                {
                    await DropSnoozeReminderAsync();
                }

                return Summary();

            default:
                await Dispatcher.Release(_id);
                s.Status = ConversationStatus.Resolved;
                s.ResolvedAt = now;
                s.MayRate = true;
                s.SnoozedUntil = null;
                s.QueuePosition = null;
                s.AwayMessageDue = false;
                await CommitAsync(before, cause);
                if (wasSnoozed)
                {
                    await DropSnoozeReminderAsync();
                }

                return Summary();
        }
    }

    public async Task<Outcome<ConversationSummary>> Transfer(Caller caller, string? toAgentId, string? toTeamId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested(); // a rule whose deadline passed while the call waited here
        if ((toAgentId is null) == (toTeamId is null))
        {
            return KefuError.Invalid("Give exactly one of an agent and a team.");
        }

        // Naming oneself is taking the conversation: allowed to whoever may see it (capacity still applies).
        var takesIt = caller.Role == ParticipantRole.Agent && toAgentId == caller.Id;
        if ((takesIt ? RefuseTaking(caller) : RefuseAgentAction(caller)) is { } refusal)
        {
            return refusal;
        }

        var s = state.State;
        if (s.Status == ConversationStatus.Resolved)
        {
            return InvalidState("A resolved conversation is not transferred; reopen it first.");
        }

        var before = LifecycleFacts.Of(s);
        var wasSnoozed = s.Status == ConversationStatus.Snoozed;
        Assignment? assignment;
        if (toAgentId is not null)
        {
            if (s.Status == ConversationStatus.Open && s.AssigneeId == toAgentId)
            {
                return Summary();
            }

            if (!Tenancy.IsValidName(toAgentId) || await GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(_tenant, toAgentId)).GetProfile() is null)
            {
                return KefuError.NotFound("Agent");
            }

            var claim = await Dispatcher.Claim(Request(preferredAgentId: null), toAgentId, force: caller.IsAdmin);
            if (claim.Error is { } refused)
            {
                return refused;
            }

            assignment = await AssignAsync(claim.Value!.AssigneeId ?? toAgentId);
        }
        else
        {
            if (!Tenancy.IsValidName(toTeamId) || !(await GrainFactory.GetGrain<ITenantGrain>(_tenant).ListTeams()).Any(t => t.TeamId == toTeamId))
            {
                return KefuError.NotFound("Team");
            }

            // Out of wherever it is (a slot or a queue), then into the team's queue as a new arrival.
            await Dispatcher.Release(_id);
            s.Team = toTeamId;
            s.QueuedAt = time.GetUtcNow();
            assignment = await EnqueueAsync(preferredAgentId: null);
            s.SnoozedUntil = null;
        }

        // Handing it on is letting go (issue #12): an agent who transferred it away is no longer a participant, so it
        // neither writes in it nor takes it back (unless the rules let any agent take it); admins keep their access.
        // The tenant's broadcast no longer reaches it (not its conversation now): it is in this change's audience.
        var former = !takesIt && !caller.IsAdmin && s.AssigneeId != caller.Id ? LetGo(caller.Id) : null;
        var cause = Causation.Of(caller);
        await CommitAsync(
            before,
            cause,
            assignmentCause: toAgentId is null ? DispatcherCause : cause,
            stated: summary => new ConversationTransferred(before.AssigneeId, toAgentId, toTeamId, summary),
            leaving: former);

        if (wasSnoozed && s.Status != ConversationStatus.Snoozed)
        {
            await DropSnoozeReminderAsync();
        }

        await AfterAssignmentAsync(assignment);
        return Summary();
    }

    /// <summary>The agent stops being a participant (state not yet written); returns where it was connected.</summary>
    private ParticipantPresence? LetGo(string agentId)
    {
        if (!state.State.Agents.Remove(agentId))
        {
            return null;
        }

        var key = ParticipantKeys.Key(_tenant, ParticipantRole.Agent, agentId);
        return Audience.Remove(key) ?? new ParticipantPresence(key, 0, []);
    }

    public async Task<Outcome<ConversationSummary>> Label(Caller caller, string[]? tags, string? priority, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested(); // a rule whose deadline passed while the call waited here
        if (RefuseAgentAction(caller) is { } refusal)
        {
            return refusal;
        }

        if (tags is null && priority is null)
        {
            return KefuError.Invalid("Give tags and/or a priority.");
        }

        if (priority is not null && !ConversationPriority.IsKnown(priority))
        {
            return KefuError.Invalid($"priority must be one of: {string.Join(", ", ConversationPriority.All)}.");
        }

        string[]? normalized = null;
        if (tags is not null)
        {
            if (LifecycleRules.NormalizeTags(tags) is not { } valid)
            {
                return KefuError.Invalid($"tags: at most {LifecycleRules.MaxTags}, each 1 to {LifecycleRules.MaxTagLength} characters.");
            }

            normalized = valid;
        }

        var s = state.State;
        var before = LifecycleFacts.Of(s);
        var priorityChanged = priority is not null && priority != s.Priority;
        if (normalized is not null)
        {
            s.Tags = normalized;
        }

        if (priority is not null)
        {
            s.Priority = priority;
        }

        Assignment? assignment = null;
        if (priorityChanged && s.Status == ConversationStatus.Queued)
        {
            // The queue orders by priority: take it out and put it back with its original arrival time.
            await Dispatcher.Release(_id);
            assignment = await EnqueueAsync(preferredAgentId: null);
        }

        await CommitAsync(before, Causation.Of(caller), DispatcherCause);
        await AfterAssignmentAsync(assignment);
        return Summary();
    }

    public async Task<Outcome<InternalNote>> AddNote(Caller caller, string text)
    {
        if (RefuseAgentAction(caller) is { } refusal)
        {
            return refusal;
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return KefuError.Invalid("text must not be empty.");
        }

        if (text.Length > _options.MaxTextLength)
        {
            return new KefuError(ErrorCodes.TextTooLong, $"text is longer than {_options.MaxTextLength} characters.");
        }

        var s = state.State;
        if (s.Notes.Count >= MaxNotes)
        {
            return InvalidState($"A conversation holds at most {MaxNotes} notes.");
        }

        var now = WholeMicroseconds(time.GetUtcNow());
        var note = new InternalNote(Ulid.NewUlid(now).ToString(), _id, caller.AsSender(), text, now);
        s.Notes.Add(note);

        // Its event is for agents only: the push sink never sends it to the visitor, the events API only on request.
        await CommitAsync(LifecycleFacts.Of(s), Causation.Of(caller), stated: _ => new NoteCreated(note));
        return note;
    }

    public Task<Outcome<InternalNote[]>> GetNotes(Caller caller)
    {
        if (Refuse(caller, mustParticipate: false) is { } refusal)
        {
            return Task.FromResult<Outcome<InternalNote[]>>(refusal);
        }

        return Task.FromResult<Outcome<InternalNote[]>>(caller.Role == ParticipantRole.Agent
            ? state.State.Notes.ToArray()
            : KefuError.NotAllowed("Notes are for agents only."));
    }

    public async Task<Outcome<ConversationSummary>> Rate(Caller visitor, int rating, string? comment)
    {
        if (Refuse(visitor, mustParticipate: true) is { } refusal)
        {
            return refusal;
        }

        if (visitor.Role != ParticipantRole.Visitor)
        {
            return KefuError.NotAllowed("Only the visitor rates a conversation.");
        }

        var s = state.State;
        if (LifecycleRules.Rating(s.Status, s.MayRate, rating, comment) is { } refused)
        {
            return refused;
        }

        var before = LifecycleFacts.Of(s);
        var csat = new CsatRating(rating, string.IsNullOrWhiteSpace(comment) ? null : comment.Trim(), time.GetUtcNow());
        s.Csat = csat;
        s.MayRate = false;
        await CommitAsync(before, Causation.Of(visitor), stated: summary => new ConversationRated(csat, summary));
        return Summary();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != SnoozeReminder)
        {
            return;
        }

        var s = state.State;
        if (!s.Created || s.Status != ConversationStatus.Snoozed)
        {
            await DropSnoozeReminderAsync();
            return;
        }

        var now = time.GetUtcNow();
        if (s.SnoozedUntil is { } until && until > now)
        {
            // Early (the snooze was moved later and this is an old tick): wait for the real time.
            await this.RegisterOrUpdateReminder(SnoozeReminder, until - now, SnoozeRetryPeriod);
            return;
        }

        // If this fails the reminder ticks again after its period and retries.
        await ReopenAsync(Causation.Of(SnoozeReminder));
    }

    /// <summary>Back to the queue (previous assignee preferred); the dispatcher may hand it straight back to them.</summary>
    private async Task ReopenAsync(Causation cause)
    {
        var s = state.State;
        var before = LifecycleFacts.Of(s);
        var wasSnoozed = s.Status == ConversationStatus.Snoozed;

        // Its agents stopped telling a conversation that waited on the visitor where they are: ask them again.
        await FetchPresenceAsync(agentsOnly: true);
        s.QueuedAt = time.GetUtcNow();
        var assignment = await EnqueueAsync(preferredAgentId: s.AssigneeId);
        s.SnoozedUntil = null;
        s.MayRate = false;
        await CommitAsync(before, cause, DispatcherCause);
        if (wasSnoozed)
        {
            await DropSnoozeReminderAsync();
        }

        await AfterAssignmentAsync(assignment);
    }

    /// <summary>Asks the dispatcher for an agent and applies its answer to the state (not yet written).</summary>
    private async Task<Assignment?> EnqueueAsync(string? preferredAgentId)
    {
        var ticket = await Dispatcher.Enqueue(Request(preferredAgentId));
        var assignment = await ApplyTicketAsync(ticket);
        var s = state.State;
        if (assignment is null && !s.AwayMessageSent && !await IsAvailableAsync(ticket.AgentsOnline))
        {
            s.AwayMessageDue = true;
        }

        return assignment;
    }

    private async Task<Assignment?> ApplyTicketAsync(QueueTicket ticket)
    {
        if (ticket.AssigneeId is { } agentId)
        {
            return await AssignAsync(agentId);
        }

        var s = state.State;
        s.Status = ConversationStatus.Queued;
        s.AssigneeId = null;
        s.QueuePosition = ticket.Position > 0 ? ticket.Position : null;
        return null;
    }

    /// <summary>The agent now holds the conversation (state not yet written).</summary>
    private async Task<Assignment> AssignAsync(string agentId)
    {
        var s = state.State;
        var newParticipant = false;
        if (!s.Agents.ContainsKey(agentId))
        {
            var agent = GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(_tenant, agentId));
            AgentProfile? profile = null;
            try
            {
                // Both interleave, so asking is safe even while that agent waits on this conversation.
                profile = await agent.GetProfile();
                Audience.Apply(await agent.GetPresence());
            }
            catch (Exception ex)
            {
                LogPresenceLookupFailed(logger, ex, _id);
            }

            s.Agents[agentId] = new ConversationAgent(profile?.DisplayName, profile?.IsAdmin ?? false);
            newParticipant = true;
        }

        s.AssigneeId = agentId;
        s.Status = ConversationStatus.Open;
        s.QueuePosition = null;
        s.SnoozedUntil = null;
        s.AwayMessageDue = false;
        return new Assignment(agentId, newParticipant);
    }

    /// <summary>
    /// After the state is written: confirm to the dispatcher, and have a newly assigned agent's grain remember the
    /// conversation (its join, queued behind this call, is a harmless re-join) so it routes the agent's later presence.
    /// </summary>
    private async Task AfterAssignmentAsync(Assignment? assignment)
    {
        if (assignment is not { } a)
        {
            return;
        }

        await ConfirmAsync(a.AgentId);
        if (a.NewParticipant)
        {
            GrainFactory.GetGrain<IAgentGrain>(Tenancy.Key(_tenant, a.AgentId)).Join(_id).Ignore();
        }
    }

    private async Task ConfirmAsync(string agentId)
    {
        try
        {
            await Dispatcher.ConfirmAssignment(_id, agentId);
        }
        catch (Exception ex)
        {
            // The dispatcher re-sends unconfirmed assignments; applying one again is idempotent.
            LogDispatcherCallFailed(logger, ex, _id);
        }
    }

    private async Task ReleaseQuietlyAsync()
    {
        try
        {
            await Dispatcher.Release(_id);
        }
        catch (Exception ex)
        {
            LogDispatcherCallFailed(logger, ex, _id);
        }
    }

    private async Task DropSnoozeReminderAsync()
    {
        try
        {
            if (await this.GetReminder(SnoozeReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            // A leftover tick finds the conversation no longer snoozed and removes the reminder then.
            LogReminderFailed(logger, ex, _id);
        }
    }

    private QueueRequest Request(string? preferredAgentId)
    {
        var s = state.State;
        return new QueueRequest(_id, s.Inbox, s.Team, s.Priority, s.QueuedAt ?? s.CreatedAt, preferredAgentId);
    }

    /// <summary>An inbox is available when an agent who serves it is online and it is within its business hours.</summary>
    private async Task<bool> IsAvailableAsync(bool agentsOnline)
    {
        if (!agentsOnline)
        {
            return false;
        }

        var inbox = await GetInboxAsync();
        try
        {
            return inbox?.BusinessHours is not { } hours || hours.IsOpen(time.GetUtcNow());
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return true;
        }
    }

    private async Task<InboxConfig?> GetInboxAsync()
    {
        try
        {
            return await GrainFactory.GetGrain<ITenantGrain>(_tenant).GetInbox(state.State.Inbox);
        }
        catch (Exception ex)
        {
            // Without its configuration the inbox counts as one without business hours or an away text.
            LogInboxLookupFailed(logger, ex, _id, state.State.Inbox);
            return null;
        }
    }

    /// <summary>The visitor's language (its <c>locale</c> attribute), for the default texts; null when unknown.</summary>
    private async Task<string?> GetVisitorLocaleAsync()
    {
        try
        {
            var profile = await GrainFactory.GetGrain<IVisitorGrain>(Tenancy.Key(_tenant, state.State.VisitorId)).GetProfile();
            return VisitorLocale.Of(profile?.Attributes);
        }
        catch (Exception ex)
        {
            // The English default is better than no away message.
            LogVisitorLookupFailed(logger, ex, _id);
            return null;
        }
    }

    /// <summary>The inbox's away message as a system message, once per conversation, after the visitor's message.</summary>
    private async Task SendAwayMessageAsync()
    {
        var s = state.State;
        if (s.AwayMessageSent || s.Status != ConversationStatus.Queued)
        {
            s.AwayMessageDue = false;
            return;
        }

        var inbox = await GetInboxAsync();
        var text = inbox?.AwayMessage is { Length: > 0 } away ? away : DefaultTexts.AwayMessage(await GetVisitorLocaleAsync());
        var now = WholeMicroseconds(time.GetUtcNow());
        var message = new ChatMessage(_id, Ulid.NewUlid(now), LastSeq + 1, SystemSender, text, now, AwayClientMsgId);
        DomainEvent? created;
        try
        {
            // Null: sent before (a write whose answer was lost), so it is in the history already.
            created = await AppendAsync(message, AwayCause);
        }
        catch
        {
            // Logged; the visitor's own message is stored and acked regardless; the next visitor message tries again.
            return;
        }

        if (created is not null)
        {
            Window.Remember(message);
            _activity.Add(message);
        }

        s.AwayMessageSent = true;
        s.AwayMessageDue = false;
        if (created is not null)
        {
            sinks.Committed(Change([created]));
        }

        await TryPersistAfterSendAsync();
    }

    /// <summary>
    /// After an acked send: the message is durable, so a failed state write (of bookkeeping: first response, away
    /// message flags, read marks) must not turn into an error.
    /// </summary>
    private async Task TryPersistAfterSendAsync()
    {
        try
        {
            await WriteStateAsync(staged: false);
        }
        catch (Exception ex)
        {
            // Kept in memory and written with the next change.
            LogStateWriteFailed(logger, ex, _id);
        }
    }

    /// <summary>Agents acting on the conversation: its participants (assignee, joined agents) and admins.</summary>
    private KefuError? RefuseAgentAction(Caller caller)
    {
        if (Refuse(caller, mustParticipate: false) is { } refusal)
        {
            return refusal;
        }

        if (caller.IsServiceKey || IsRule(caller))
        {
            // A business system with conversations:write acts as the tenant's admins do (checked by the gateway); so
            // does a routing rule (issue #15).
            return null;
        }

        if (caller.Role != ParticipantRole.Agent)
        {
            return KefuError.NotAllowed("Only agents do that.");
        }

        return caller.IsAdmin || state.State.Agents.ContainsKey(caller.Id)
            ? null
            : KefuError.NotAllowed("Join the conversation first.");
    }

    /// <summary>An agent taking the conversation for themself: whoever may see it.</summary>
    private KefuError? RefuseTaking(Caller caller) => Refuse(caller, mustParticipate: false);

    private static KefuError InvalidState(string why) => new(ErrorCodes.InvalidState, why);

    /// <summary>Whole microseconds: what MySQL's DATETIME(6) keeps, so what is answered and what is stored agree.</summary>
    private static DateTimeOffset WholeMicroseconds(DateTimeOffset now) => now.AddTicks(-(now.UtcTicks % 10));

    private readonly record struct Assignment(string AgentId, bool NewParticipant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: a call to the dispatcher failed")]
    private static partial void LogDispatcherCallFailed(ILogger logger, Exception exception, string conversationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {ConversationId}: stale assignment to {AgentId} ignored ({Current})")]
    private static partial void LogStaleAssignment(ILogger logger, string conversationId, string agentId, string? current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: the snooze reminder could not be removed")]
    private static partial void LogReminderFailed(ILogger logger, Exception exception, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: inbox {Inbox} could not be read")]
    private static partial void LogInboxLookupFailed(ILogger logger, Exception exception, string conversationId, string inbox);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: its visitor's profile could not be read")]
    private static partial void LogVisitorLookupFailed(ILogger logger, Exception exception, string conversationId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {ConversationId}: writing its state failed")]
    private static partial void LogStateWriteFailed(ILogger logger, Exception exception, string conversationId);
}
