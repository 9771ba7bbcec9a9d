using Kefu.Contracts.Grains;
using Kefu.Contracts.Identity;
using Kefu.Contracts.Messages;
using Kefu.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kefu.Grains.Participants;

[GenerateSerializer]
public sealed class VisitorState
{
    [Id(0)] public VisitorProfile? Profile { get; set; }

    [Id(1)] public string? CurrentConversationId { get; set; }

    [Id(2)] public List<string> ConversationIds { get; set; } = [];
}

/// <summary>
/// A website visitor. The profile (name, email, bounded attributes) is stored here and nowhere else. Visitors are
/// free to create, so one who never writes is deleted after <see cref="VisitorOptions.IdleExpiry"/> without calls
/// (issue #12): its activation is kept until then by a timer, which clears the state. A visitor with a conversation
/// is kept.
/// </summary>
public sealed partial class VisitorGrain(
    [PersistentState("visitor", KefuStorage.Name)] IPersistentState<VisitorState> state,
    TimeProvider time,
    IOptions<PresenceOptions> presenceOptions,
    IOptions<VisitorOptions> visitorOptions,
    ILogger<VisitorGrain> logger)
    : ParticipantGrain(time, presenceOptions, logger), IVisitorGrain
{
    private readonly TimeSpan _idleExpiry = visitorOptions.Value.IdleExpiry;
    private readonly TimeProvider _clock = time;
    private readonly ILogger _logger = logger;
    private IGrainTimer? _expiryTimer;
    private DateTimeOffset _lastActive;

    protected override ParticipantRole Role => ParticipantRole.Visitor;

    /// <summary>Never wrote: no conversation yet.</summary>
    private bool IsAnonymous => state.State.Profile is not null && state.State.CurrentConversationId is null && state.State.ConversationIds.Count == 0;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Being activated is being used (a restart loses the last-active time; the expiry counts from now).
        _lastActive = _clock.GetUtcNow();
        WatchExpiry();
        return Task.CompletedTask;
    }

    public async Task<VisitorProfile> Register(VisitorProfile profile)
    {
        _lastActive = _clock.GetUtcNow();
        if (state.State.Profile is null)
        {
            state.State.Profile = profile;
            await state.WriteStateAsync();
            WatchExpiry();
        }

        return state.State.Profile;
    }

    public Task<VisitorProfile?> GetProfile() => Task.FromResult(state.State.Profile);

    public Task<string?> GetCurrentConversation() => Task.FromResult(state.State.CurrentConversationId);

    public async Task<string> GetOrStartConversation()
    {
        _lastActive = _clock.GetUtcNow();
        if (state.State.CurrentConversationId is { } current)
        {
            return current;
        }

        var profile = state.State.Profile ?? throw new InvalidOperationException($"Visitor {Key.Id} is not registered.");
        var conversationId = Ulid.NewUlid().ToString();
        await GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, conversationId))
            .Start(new StartConversation(profile.Inbox, Key.Id, profile.Name, Connections.Presence));
        state.State.CurrentConversationId = conversationId;
        state.State.ConversationIds.Add(conversationId);
        await state.WriteStateAsync();
        StopWatchingExpiry(); // a visitor with a conversation is kept

        return conversationId;
    }

    public Task<string[]> ListConversations() => Task.FromResult(state.State.ConversationIds.ToArray());

    public async Task<bool> ErasePersonalData()
    {
        // Profile, attributes and conversation links go; a connected widget finds its visitor gone (like an expired one).
        var existed = state.State.Profile is not null || state.RecordExists;
        if (existed)
        {
            await state.ClearStateAsync();
            state.State = new VisitorState();
        }

        StopWatchingExpiry();
        DeactivateOnIdle();
        return existed;
    }

    public async Task<Outcome<string[]>> LinkContact(string contactId)
    {
        if (state.State.Profile is not { } profile)
        {
            return KefuError.NotFound("Visitor");
        }

        if (profile.ContactId is { } linked && linked != contactId)
        {
            return new KefuError(ErrorCodes.Conflict, "This visitor is already identified as another contact.");
        }

        if (profile.ContactId is null)
        {
            state.State.Profile = profile with { ContactId = contactId };
            await state.WriteStateAsync();
        }

        _lastActive = _clock.GetUtcNow();
        return state.State.ConversationIds.ToArray();
    }

    protected override Task OnPresenceChangedAsync(ParticipantPresence presence)
    {
        _lastActive = _clock.GetUtcNow();
        return state.State.CurrentConversationId is { } current
            ? GrainFactory.GetGrain<IConversationGrain>(Tenancy.Key(Key.Tenant, current)).UpdatePresence(presence)
            : Task.CompletedTask;
    }

    protected override Task OnHeartbeatAsync(ParticipantPresence presence)
    {
        _lastActive = _clock.GetUtcNow();
        return Task.CompletedTask;
    }

    /// <summary>An anonymous visitor's activation stays (KeepAlive) until it expires, so the expiry cannot be missed.</summary>
    private void WatchExpiry()
    {
        if (!IsAnonymous || _expiryTimer is not null)
        {
            return;
        }

        var period = _idleExpiry < TimeSpan.FromMinutes(1) ? _idleExpiry : TimeSpan.FromMinutes(1);
        _expiryTimer = this.RegisterGrainTimer(
            static (self, _) => self.ExpireIfIdleAsync(),
            this,
            new GrainTimerCreationOptions(period, period) { KeepAlive = true });
    }

    private void StopWatchingExpiry()
    {
        _expiryTimer?.Dispose();
        _expiryTimer = null;
    }

    private async Task ExpireIfIdleAsync()
    {
        if (!IsAnonymous)
        {
            StopWatchingExpiry();
            return;
        }

        var now = _clock.GetUtcNow();
        if (Connections.HasConnections)
        {
            _lastActive = now;
            return;
        }

        if (now - _lastActive < _idleExpiry)
        {
            return;
        }

        try
        {
            await state.ClearStateAsync();
        }
        catch (Exception ex)
        {
            // The next tick tries again.
            LogExpiryFailed(_logger, ex, Key.Id);
            return;
        }

        StopWatchingExpiry();
        DeactivateOnIdle();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Visitor {VisitorId}: clearing the expired state failed")]
    private static partial void LogExpiryFailed(ILogger logger, Exception exception, string visitorId);
}
